//! `dragnet`: find sensitive data in object stores, the way Amazon Macie does, and act on it.
//!
//! The binary wires the crates together: argument parsing, config and file loading, output.
//! Exit status: 0 success, 1 the job failed, 2 bad usage or bad input.

mod accuracy;
mod api_backend;
mod cli;
mod commands;
mod config;
mod consumer;
mod demo;
mod findings;
mod job_store;
mod jobs;
mod load;
mod params;
mod progress;
mod react;
mod results;
mod sample;
mod serve;
mod store;

use std::process::ExitCode;
use std::sync::{Arc, Mutex, OnceLock};

use clap::Parser;

/// An error with the exit status it deserves.
pub struct Exit {
    code: u8,
    error: anyhow::Error,
}

impl Exit {
    /// The job (or the command's main work) failed: exit 1.
    pub fn failed(error: impl Into<anyhow::Error>) -> Self {
        Exit {
            code: 1,
            error: error.into(),
        }
    }
}

impl<E: Into<anyhow::Error>> From<E> for Exit {
    /// Anything else is bad usage or bad input: exit 2.
    fn from(error: E) -> Self {
        Exit {
            code: 2,
            error: error.into(),
        }
    }
}

fn main() -> ExitCode {
    let args = cli::Cli::parse();
    init_logging(args.verbose);
    let code = match commands::run(args) {
        Ok(code) => code,
        Err(Exit { code, error }) => {
            eprintln!("error: {error:#}");
            ExitCode::from(code)
        }
    };
    report_peak_rss();
    code
}

/// With `DRAGNET_REPORT_PEAK_RSS` set, prints this process's peak resident memory (Linux
/// `VmHWM`) on stderr, for the benchmark harness: a parent's `ru_maxrss` is not reliable,
/// because Linux carries the high-water mark of the forking process across `exec`.
fn report_peak_rss() {
    if std::env::var_os("DRAGNET_REPORT_PEAK_RSS").is_none() {
        return;
    }
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    if let Some(kb) = status.lines().find_map(|l| l.strip_prefix("VmHWM:")) {
        eprintln!("dragnet-peak-rss-kb: {}", kb.trim().trim_end_matches(" kB"));
    }
}

fn init_logging(verbose: u8) {
    use tracing_subscriber::EnvFilter;
    let default = match verbose {
        0 => "warn",
        1 => "info",
        _ => "debug",
    };
    let filter = EnvFilter::try_from_env("DRAGNET_LOG").unwrap_or_else(|_| EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(MaskedStderr::new())
        .with_target(false)
        .try_init();
}

/// dragnet's own log lines go through the masking engine before they reach stderr, so a
/// value that slipped into a log field (an object key, an error from a parser quoting its
/// input) is never printed raw. The masker is built on the first log line, so a run that logs
/// nothing pays nothing.
struct MaskedStderr {
    masker: Arc<OnceLock<Option<Mutex<dragnet_mask::Masker>>>>,
}

impl MaskedStderr {
    fn new() -> Self {
        MaskedStderr {
            masker: Arc::new(OnceLock::new()),
        }
    }
}

/// One log line, masked and written when the formatter is done with it.
struct MaskedLine {
    buf: Vec<u8>,
    masker: Arc<OnceLock<Option<Mutex<dragnet_mask::Masker>>>>,
}

impl std::io::Write for MaskedLine {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.buf.extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Drop for MaskedLine {
    fn drop(&mut self) {
        let masker = self.masker.get_or_init(|| {
            dragnet_mask::Masker::new(dragnet_mask::MaskPolicy::defaults(), &[], Vec::new())
                .ok()
                .map(Mutex::new)
        });
        let mut out: Vec<u8> = Vec::new();
        let masked = masker.as_ref().is_some_and(|m| {
            let mut m = m.lock().unwrap_or_else(|p| p.into_inner());
            m.mask_stream(
                dragnet_mask::MaskFormat::Text,
                "log",
                &self.buf[..],
                &mut out,
                None,
                false,
            )
            .is_ok()
        });
        let mut err = std::io::stderr().lock();
        // Without a masker nothing is printed rather than something unmasked.
        let _ = if masked {
            std::io::Write::write_all(&mut err, &out)
        } else {
            std::io::Write::write_all(&mut err, b"(log line withheld: masking unavailable)\n")
        };
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for MaskedStderr {
    type Writer = MaskedLine;
    fn make_writer(&'a self) -> MaskedLine {
        MaskedLine {
            buf: Vec::new(),
            masker: self.masker.clone(),
        }
    }
}
