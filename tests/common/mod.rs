//! Helpers for end-to-end tests: run the built binary as a user would.

#![allow(dead_code)]

pub mod serve;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The repository root.
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `../shared/sample-data/synthea`, when this checkout has the shared folder beside it.
pub fn shared_synthea() -> Option<PathBuf> {
    let p = repo().join("../shared/sample-data/synthea");
    p.join("patients.csv").is_file().then_some(p)
}

/// Runs `dragnet` with `args` in `dir`.
pub fn dragnet(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_dragnet"))
        .args(args)
        .current_dir(dir)
        .env_remove("DRAGNET_LOG")
        .output()
        .expect("the dragnet binary runs")
}

/// Standard error as text.
pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Asserts the command exited with `code` and said `needle` on stderr.
pub fn expect_failure(o: &Output, code: i32, needle: &str) {
    assert_eq!(o.status.code(), Some(code), "{}", stderr(o));
    assert!(
        stderr(o).contains(needle),
        "expected {needle:?} in: {}",
        stderr(o)
    );
}

/// Standard output as JSON.
pub fn stdout_json(o: &Output) -> serde_json::Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}): {}",
            String::from_utf8_lossy(&o.stdout)
        )
    })
}

/// Reads a JSON Lines file.
pub fn jsonl(path: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// Every file under `root`, at any depth (none when `root` does not exist).
pub fn files_under(root: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut folders: Vec<PathBuf> = Some(root.to_path_buf())
        .filter(|r| r.is_dir())
        .into_iter()
        .collect();
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(&folder).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                folders.push(path);
            } else {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

/// A file's text, gunzipped when its name ends in `.gz`.
pub fn text_of(path: &Path) -> String {
    let bytes = std::fs::read(path).unwrap();
    if path.extension().is_some_and(|x| x == "gz") {
        let mut text = String::new();
        std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(&bytes[..]), &mut text)
            .unwrap();
        text
    } else {
        String::from_utf8_lossy(&bytes).into_owned()
    }
}

/// Copies every file of `from` (one level) into `to`, writable.
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        if entry.file_type().unwrap().is_file() {
            std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
        }
    }
}

/// A work folder with a `dragnet.toml` whose store root is `buckets/`.
pub fn workdir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("dragnet.toml"),
        "account_id = \"111222333444\"\n[store]\nroot = \"buckets\"\n",
    )
    .unwrap();
    dir
}

/// A moto server (the AWS emulator from PyPI) on a free loopback port, stopped when dropped,
/// even when the test panics.
pub struct Moto {
    child: std::process::Child,
    /// `http://127.0.0.1:<port>`.
    pub endpoint: String,
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The virtualenv under `target/` with `moto[server]` (and so boto3) installed from PyPI,
/// created on first use.
fn moto_venv() -> PathBuf {
    let venv = repo().join("target/moto-venv");
    if !venv.join("bin/moto_server").is_file() {
        let ok = Command::new("python3")
            .args(["-m", "venv"])
            .arg(&venv)
            .status()
            .is_ok_and(|s| s.success())
            && Command::new(venv.join("bin/pip"))
                .args(["install", "--quiet", "moto[server]"])
                .status()
                .is_ok_and(|s| s.success());
        assert!(
            ok,
            "could not install moto[server] into {} (needs python3 and PyPI)",
            venv.display()
        );
    }
    venv
}

/// `moto_server` from PATH, else from [`moto_venv`].
fn moto_server() -> PathBuf {
    if let Some(found) = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|p| p.join("moto_server"))
            .find(|p| p.is_file())
    }) {
        return found;
    }
    moto_venv().join("bin/moto_server")
}

/// A Python with boto3 (a dependency of moto): `python3` when it has it, else the moto
/// virtualenv's. Tests use it for emulator set-up that needs an AWS SDK this project has no
/// other use for (IAM users and keys).
fn python_with_boto3() -> PathBuf {
    let system = Command::new("python3")
        .args(["-c", "import boto3"])
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if system {
        PathBuf::from("python3")
    } else {
        moto_venv().join("bin/python")
    }
}

impl Moto {
    /// Creates an IAM user with `policy` (a JSON policy document) and returns its access key
    /// id and secret, then makes the emulator enforce IAM from the next request on, so the
    /// user's requests are judged by the policy (and the fake test credentials stop working).
    pub fn enforce_iam_user(&self, policy: &str) -> (String, String) {
        let script = r#"
import sys, urllib.request, boto3
endpoint, policy = sys.argv[1], sys.argv[2]
iam = boto3.client("iam", endpoint_url=endpoint, region_name="us-east-1",
                   aws_access_key_id="testing", aws_secret_access_key="testing")
iam.create_user(UserName="dragnet-scanner")
iam.put_user_policy(UserName="dragnet-scanner", PolicyName="scan", PolicyDocument=policy)
key = iam.create_access_key(UserName="dragnet-scanner")["AccessKey"]
request = urllib.request.Request(endpoint + "/moto-api/reset-auth", data=b"0", method="POST",
                                 headers={"Content-Type": "text/plain"})
urllib.request.urlopen(request).read()
print(key["AccessKeyId"], key["SecretAccessKey"])
"#;
        let out = Command::new(python_with_boto3())
            .args(["-c", script, &self.endpoint, policy])
            .output()
            .expect("python runs");
        assert!(
            out.status.success(),
            "IAM set-up failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8_lossy(&out.stdout);
        let mut words = text.split_whitespace();
        let id = words.next().expect("an access key id").to_string();
        let secret = words.next().expect("a secret key").to_string();
        (id, secret)
    }
}

/// Starts a moto server and waits until it answers.
pub fn moto() -> Moto {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new(moto_server())
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("moto_server starts");
    let moto = Moto {
        child,
        endpoint: format!("http://127.0.0.1:{port}"),
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            std::time::Instant::now() < deadline,
            "moto_server did not start on port {port}"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    moto
}

/// The environment the AWS SDK reads in emulator tests: fake credentials, a region, no
/// instance metadata lookups.
pub const AWS_TEST_ENV: &[(&str, &str)] = &[
    ("AWS_ACCESS_KEY_ID", "testing"),
    ("AWS_SECRET_ACCESS_KEY", "testing"),
    ("AWS_REGION", "us-east-1"),
    ("AWS_EC2_METADATA_DISABLED", "true"),
];

/// Runs `dragnet` with the emulator environment.
pub fn dragnet_aws(dir: &Path, args: &[&str]) -> Output {
    dragnet_aws_env(dir, args, &[])
}

/// Runs `dragnet` with the emulator environment plus `extra` variables (service endpoints,
/// another identity's credentials, a worker index), which win over the defaults.
pub fn dragnet_aws_env(dir: &Path, args: &[&str], extra: &[(&str, &str)]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_dragnet"))
        .args(args)
        .current_dir(dir)
        .env_remove("DRAGNET_LOG")
        .envs(AWS_TEST_ENV.iter().copied())
        .envs(extra.iter().copied())
        .output()
        .expect("the dragnet binary runs")
}

/// One HTTP/1.1 request to 127.0.0.1:`port` (connection closed after it): the status line and
/// the body, or `None` when nothing answered.
pub fn http(
    port: u16,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> Option<(String, String)> {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(std::time::Duration::from_secs(30)))
        .ok()?;
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    s.write_all(head.as_bytes()).ok()?;
    s.write_all(body.as_bytes()).ok()?;
    let mut text = String::new();
    s.read_to_string(&mut text).ok()?;
    let (head, body) = text.split_once("\r\n\r\n")?;
    Some((head.lines().next()?.to_string(), body.to_string()))
}

/// Polls `f` every 200 ms until it gives a value; fails the test after `timeout`.
pub fn wait_for<T>(
    what: &str,
    timeout: std::time::Duration,
    mut f: impl FnMut() -> Option<T>,
) -> T {
    let deadline = std::time::Instant::now() + timeout;
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
}
