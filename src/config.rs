//! `dragnet.toml` (ARCHITECTURE.md "Config file"): every key has a default; relative paths
//! resolve against the config file's folder; an unknown key is an error that names it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use serde::Deserialize;

/// The whole config file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Region for ARNs and AWS clients.
    pub region: String,
    /// Account for buckets selected by `bucketCriteria` in local mode.
    pub account_id: String,
    /// Custom identifier files every command loads.
    pub identifiers: Vec<PathBuf>,
    /// Allow list files every command loads.
    pub allow_lists: Vec<PathBuf>,
    /// Where objects live.
    pub store: StoreConfig,
    /// Where finding events go.
    pub events: EventsConfig,
    /// Alert delivery.
    pub alerts: AlertsConfig,
    /// Default isolation bucket for the mover.
    pub quarantine: QuarantineConfig,
    /// Job state.
    pub state: StateConfig,
    /// Discovery results export.
    pub results: ResultsConfig,
    /// Sampling.
    pub sampling: SamplingConfig,
    /// `dragnet serve`.
    pub server: ServerConfig,
    /// Values for `ssm:/...` references in local mode.
    pub parameters: BTreeMap<String, String>,
    /// Worker threads (default: the machine's cores).
    pub threads: Option<usize>,
    /// Saved investigations (`[[investigations]]`), added to the built-in ones.
    pub investigations: Vec<dragnet_findings::Investigation>,
}

/// `[store]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StoreConfig {
    /// `dir` or `s3`.
    pub kind: String,
    /// `dir`: one folder per bucket under this folder.
    pub root: PathBuf,
    /// `s3`: custom endpoint.
    pub endpoint_url: Option<String>,
    /// `s3`: path-style addressing.
    pub force_path_style: bool,
    /// `s3`: attempts per request, retries with backoff included (SDK default 3).
    pub max_attempts: Option<u32>,
    /// `s3`: seconds allowed to open a connection.
    pub connect_timeout_secs: Option<f64>,
    /// `s3`: seconds allowed without a byte from S3.
    pub read_timeout_secs: Option<f64>,
}

impl StoreConfig {
    /// The S3 client options this section asks for (with the config's region).
    pub fn s3_options(&self, region: &str) -> dragnet_store::s3::S3Options {
        let seconds = |s: Option<f64>| s.map(std::time::Duration::from_secs_f64);
        dragnet_store::s3::S3Options {
            region: Some(region.to_string()),
            endpoint_url: self.endpoint_url.clone(),
            force_path_style: self.force_path_style,
            max_attempts: self.max_attempts,
            connect_timeout: seconds(self.connect_timeout_secs),
            read_timeout: seconds(self.read_timeout_secs),
            ..Default::default()
        }
    }
}

/// `[events]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EventsConfig {
    /// `local` or `eventbridge`.
    pub kind: String,
    /// `local`: rules file; none means findings are not routed.
    pub rules: Option<PathBuf>,
    /// `eventbridge`: bus name or ARN.
    pub bus: String,
    /// `eventbridge`: custom endpoint (a local emulator); else `AWS_ENDPOINT_URL` or AWS.
    pub endpoint_url: Option<String>,
    /// Event `source`.
    pub source: String,
    /// `local`: where events that could not be delivered are written.
    pub dead_letter: PathBuf,
}

/// `[alerts]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AlertsConfig {
    /// `local` (the outbox) or `sns`.
    pub kind: String,
    /// `local`: outbox (JSON Lines).
    pub outbox: PathBuf,
    /// `sns`: custom endpoint (a local emulator); else `AWS_ENDPOINT_URL_SNS` or AWS.
    pub endpoint_url: Option<String>,
    /// `sns`: topic for the job-completion alert (totals by severity, objects quarantined).
    pub topic_arn: Option<String>,
    /// Delivery protocol per local topic (`email`, the default, or `sms`).
    pub topics: BTreeMap<String, dragnet_events::Protocol>,
}

/// `[quarantine]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct QuarantineConfig {
    /// Isolation bucket.
    pub bucket: String,
    /// Key prefix inside it.
    pub prefix: String,
    /// Versioned source buckets: also delete the noncurrent versions of a moved object.
    pub purge_noncurrent_versions: bool,
}

/// `[results]`: where discovery results are kept besides the output folder.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ResultsConfig {
    /// `s3://bucket/prefix` in the configured store (Macie's discovery results repository);
    /// findings' `detailedResultsLocation` names the files there.
    pub location: Option<String>,
    /// KMS key the exported files are encrypted with (S3 only; Macie requires one).
    pub kms_key_id: Option<String>,
}

impl ResultsConfig {
    /// `location` as (bucket, prefix).
    pub fn bucket_and_prefix(&self) -> Option<(String, String)> {
        dragnet_store::parse_s3_location(self.location.as_deref()?)
    }
}

/// `[state]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StateConfig {
    /// Job store file (with `shared`, the local working copy).
    pub path: PathBuf,
    /// Time of day (UTC, `HH:MM`) at which scheduled jobs run.
    pub schedule_time: String,
    /// `s3://bucket/prefix`: the deployment's job store, shared by every scheduler and `jobs`
    /// command through the configured store, written under a lease with conditional writes.
    pub shared: Option<String>,
    /// How long a writer waits for another process's lease before giving up.
    pub lease_wait_secs: u64,
}

impl StateConfig {
    /// `shared` as (bucket, prefix).
    pub fn shared_location(&self) -> Option<(String, String)> {
        dragnet_store::parse_s3_location(self.shared.as_deref()?)
    }
}

/// `[sampling]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SamplingConfig {
    /// Seed for `samplingPercentage`.
    pub seed: u64,
}

/// `[server]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    /// Listen address.
    pub listen: String,
    /// Append-only audit log (JSON Lines) of reveals and of changes made through the API.
    pub audit_log: PathBuf,
    /// Reveals one token may make per minute.
    pub reveals_per_minute: u32,
    /// Largest API request body, in bytes.
    pub max_body_bytes: usize,
    /// PEM certificate chain: with `tls_key`, the API and console are served over TLS.
    pub tls_cert: Option<PathBuf>,
    /// PEM private key of `tls_cert`.
    pub tls_key: Option<PathBuf>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            region: "us-east-1".into(),
            account_id: "111122223333".into(),
            identifiers: Vec::new(),
            allow_lists: Vec::new(),
            store: StoreConfig::default(),
            events: EventsConfig::default(),
            alerts: AlertsConfig::default(),
            quarantine: QuarantineConfig::default(),
            state: StateConfig::default(),
            results: ResultsConfig::default(),
            sampling: SamplingConfig::default(),
            server: ServerConfig::default(),
            parameters: BTreeMap::new(),
            threads: None,
            investigations: Vec::new(),
        }
    }
}

impl Default for StoreConfig {
    fn default() -> Self {
        StoreConfig {
            kind: "dir".into(),
            root: "buckets".into(),
            endpoint_url: None,
            force_path_style: false,
            max_attempts: None,
            connect_timeout_secs: None,
            read_timeout_secs: None,
        }
    }
}

impl Default for EventsConfig {
    fn default() -> Self {
        EventsConfig {
            kind: "local".into(),
            rules: None,
            bus: "default".into(),
            endpoint_url: None,
            source: dragnet_model::event::DEFAULT_SOURCE.into(),
            dead_letter: "dead-letter.jsonl".into(),
        }
    }
}

impl Default for AlertsConfig {
    fn default() -> Self {
        AlertsConfig {
            kind: "local".into(),
            outbox: "alerts.jsonl".into(),
            endpoint_url: None,
            topic_arn: None,
            topics: BTreeMap::new(),
        }
    }
}

impl Default for QuarantineConfig {
    fn default() -> Self {
        QuarantineConfig {
            bucket: "dragnet-isolation".into(),
            prefix: String::new(),
            purge_noncurrent_versions: false,
        }
    }
}

impl Default for StateConfig {
    fn default() -> Self {
        StateConfig {
            path: "state.db".into(),
            schedule_time: "00:00".into(),
            shared: None,
            lease_wait_secs: 30,
        }
    }
}

impl Default for SamplingConfig {
    fn default() -> Self {
        SamplingConfig { seed: 42 }
    }
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            listen: "127.0.0.1:8080".into(),
            audit_log: "audit.jsonl".into(),
            reveals_per_minute: 10,
            max_body_bytes: 64 * 1024,
            tls_cert: None,
            tls_key: None,
        }
    }
}

impl Config {
    /// Loads `path`, resolving relative paths against its folder.
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading config file {}", path.display()))?;
        let mut config: Config = toml::from_str(&text).map_err(|e| {
            let msg = e.message().to_string();
            anyhow::anyhow!("config file {}: {msg}", path.display())
        })?;
        let base = path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        config.resolve_paths(base);
        config.validate(path)?;
        Ok(config)
    }

    /// The defaults, with relative paths against `base`.
    pub fn default_in(base: &Path) -> Self {
        let mut c = Config::default();
        c.resolve_paths(base);
        c
    }

    fn resolve_paths(&mut self, base: &Path) {
        let fix = |p: &mut PathBuf| {
            if p.is_relative() {
                *p = base.join(&*p);
            }
        };
        self.identifiers.iter_mut().for_each(fix);
        self.allow_lists.iter_mut().for_each(fix);
        fix(&mut self.store.root);
        if let Some(r) = self.events.rules.as_mut() {
            fix(r);
        }
        fix(&mut self.events.dead_letter);
        fix(&mut self.alerts.outbox);
        fix(&mut self.state.path);
        fix(&mut self.server.audit_log);
        for p in [&mut self.server.tls_cert, &mut self.server.tls_key]
            .into_iter()
            .flatten()
        {
            fix(p);
        }
    }

    fn validate(&self, path: &Path) -> Result<()> {
        match self.store.kind.as_str() {
            "dir" | "s3" => {}
            other => bail!(
                "config file {}: store.kind = {other:?} is not known (allowed: dir, s3)",
                path.display()
            ),
        }
        if self.store.max_attempts == Some(0) {
            bail!(
                "config file {}: store.max_attempts must be at least 1 (1 means no retries)",
                path.display()
            );
        }
        for (name, value) in [
            ("connect_timeout_secs", self.store.connect_timeout_secs),
            ("read_timeout_secs", self.store.read_timeout_secs),
        ] {
            if value.is_some_and(|v| !(v.is_finite() && v > 0.0 && v < 1e9)) {
                bail!(
                    "config file {}: store.{name} must be a positive number of seconds",
                    path.display()
                );
            }
        }
        match self.events.kind.as_str() {
            "local" => {}
            "eventbridge" if self.events.rules.is_some() => bail!(
                "config file {}: events.rules is a local rules file, but events.kind = \"eventbridge\" routes with the rules deployed in EventBridge; remove one of them",
                path.display()
            ),
            "eventbridge" if self.events.source.starts_with("aws.") => bail!(
                "config file {}: events.source = {:?}: EventBridge reserves sources starting with \"aws.\" for AWS services (PutEvents refuses them); use your own, e.g. \"dragnet\"",
                path.display(),
                self.events.source
            ),
            "eventbridge" => {}
            other => bail!("config file {}: events.kind = {other:?} is not known (allowed: local, eventbridge)", path.display()),
        }
        if !matches!(self.alerts.kind.as_str(), "local" | "sns") {
            bail!(
                "config file {}: alerts.kind = {:?} is not known (allowed: local, sns)",
                path.display(),
                self.alerts.kind
            );
        }
        if self.alerts.topic_arn.is_some() && self.alerts.kind != "sns" {
            bail!(
                "config file {}: alerts.topic_arn (the job-completion alert topic) needs alerts.kind = \"sns\"",
                path.display()
            );
        }
        if dragnet_job::TimeOfDay::parse(&self.state.schedule_time).is_none() {
            bail!(
                "config file {}: state.schedule_time = {:?} is not a time of day (HH:MM, UTC)",
                path.display(),
                self.state.schedule_time
            );
        }
        for (name, value) in [
            ("state.shared", &self.state.shared),
            ("results.location", &self.results.location),
        ] {
            if let Some(uri) = value
                .as_deref()
                .filter(|u| dragnet_store::parse_s3_location(u).is_none())
            {
                bail!(
                    "config file {}: {name} = {uri:?} is not an s3://bucket/prefix location",
                    path.display()
                );
            }
        }
        if self.threads == Some(0) {
            bail!("config file {}: threads must be at least 1", path.display());
        }
        if self.server.tls_cert.is_some() != self.server.tls_key.is_some() {
            bail!(
                "config file {}: server.tls_cert and server.tls_key go together (give both for TLS, neither for plain HTTP)",
                path.display()
            );
        }
        if self.server.reveals_per_minute == 0 || self.server.max_body_bytes < 1024 {
            bail!(
                "config file {}: server.reveals_per_minute must be at least 1 and server.max_body_bytes at least 1024",
                path.display()
            );
        }
        self.validate_investigations(path)
    }

    /// Every `[[investigations]]` entry has a unique name and criteria that parse (required
    /// parameters filled with a placeholder), so a typo fails at start, not at query time.
    fn validate_investigations(&self, path: &Path) -> Result<()> {
        let mut names = std::collections::BTreeSet::new();
        for inv in &self.investigations {
            if inv.name.trim().is_empty() || !names.insert(inv.name.as_str()) {
                bail!(
                    "config file {}: investigations: every investigation needs a name of its own ({:?})",
                    path.display(),
                    inv.name
                );
            }
            let params = inv
                .parameters
                .iter()
                .map(|(k, v)| (k.clone(), if v.is_empty() { "x".into() } else { v.clone() }))
                .collect();
            let checked = inv.instantiate(&params).and_then(|kind| {
                let now = dragnet_model::Timestamp::now();
                match kind {
                    dragnet_findings::InvestigationKind::List(r) => {
                        dragnet_findings::query::list_all(&[], &r, now).map(|_| ())
                    }
                    dragnet_findings::InvestigationKind::Statistics(r) => {
                        dragnet_findings::statistics(&[], &r, now).map(|_| ())
                    }
                }
            });
            if let Err(e) = checked {
                bail!(
                    "config file {}: investigation {:?}: {e}",
                    path.display(),
                    inv.name
                );
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(text: &str) -> Result<Config> {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("dragnet.toml");
        std::fs::write(&p, text).unwrap();
        Config::load(&p)
    }

    #[test]
    fn defaults_and_relative_paths() {
        let c = load(
            "region = \"eu-west-1\"\nidentifiers = [\"ids.json\"]\n[store]\nroot = \"data\"\n",
        )
        .unwrap();
        assert_eq!(c.region, "eu-west-1");
        assert!(c.store.root.ends_with("data") && c.store.root.is_absolute());
        assert!(c.identifiers[0].ends_with("ids.json"));
        assert_eq!(c.sampling.seed, 42);
    }

    #[test]
    fn unknown_keys_are_named() {
        let e = load("regoin = \"x\"\n").unwrap_err().to_string();
        assert!(e.contains("unknown field `regoin`"), "{e}");
        let e = load("[store]\nrooot = \"x\"\n").unwrap_err().to_string();
        assert!(e.contains("unknown field `rooot`"), "{e}");
    }

    #[test]
    fn the_kubernetes_config_and_job_spec_load() {
        let c = load(include_str!("../deploy/kubernetes/config/dragnet.toml")).unwrap();
        assert_eq!(c.store.kind, "s3");
        assert_eq!(c.events.kind, "eventbridge");
        assert!(c.results.bucket_and_prefix().is_some());
        let spec =
            dragnet_model::JobSpec::from_json(include_str!("../deploy/kubernetes/config/job.json"))
                .unwrap();
        assert_eq!(spec.client_token.as_deref(), Some("lake-daily"));
    }

    #[test]
    fn the_readme_examples_are_valid_configs() {
        let readme = include_str!("../README.md");
        let mut examples = Vec::new();
        let mut rest = readme;
        while let Some(start) = rest.find("```toml\n") {
            let body = &rest[start + 8..];
            let end = body.find("```").expect("closed toml block");
            examples.push(
                load(&body[..end])
                    .unwrap_or_else(|e| panic!("README toml example does not load: {e:#}")),
            );
            rest = &body[end..];
        }
        assert!(examples.len() >= 2, "the config and AWS mode examples");
        assert!(examples
            .iter()
            .any(|c| c.alerts.topics.get("high-severity-sms")
                == Some(&dragnet_events::Protocol::Sms)));
        let sample = load(include_str!("../sample-data/dragnet.toml")).unwrap();
        assert_eq!(sample.state.schedule_time, "02:00");
    }

    #[test]
    fn eventbridge_events_and_a_local_rules_file_do_not_mix() {
        let c = load("[events]\nkind = \"eventbridge\"\nbus = \"findings\"\n").unwrap();
        assert_eq!(c.events.bus, "findings");
        let e = load("[events]\nkind = \"eventbridge\"\nrules = \"rules.json\"\n")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("events.rules") && e.contains("remove one"),
            "{e}"
        );
        let e = load("[events]\nkind = \"eventbridge\"\nsource = \"aws.macie\"\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("reserves sources"), "{e}");
        let e = load("[events]\nkind = \"kafka\"\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("\"kafka\" is not known"), "{e}");
    }

    #[test]
    fn s3_client_options_and_the_shared_store_are_checked() {
        let c = load("[store]\nkind = \"s3\"\nmax_attempts = 5\nread_timeout_secs = 2.5\n[state]\nshared = \"s3://state-bucket/prod/\"\n").unwrap();
        let options = c.store.s3_options("eu-west-1");
        assert_eq!(options.max_attempts, Some(5));
        assert_eq!(
            options.read_timeout,
            Some(std::time::Duration::from_millis(2500))
        );
        assert_eq!(options.region.as_deref(), Some("eu-west-1"));
        assert_eq!(
            c.state.shared_location(),
            Some(("state-bucket".to_string(), "prod".to_string()))
        );
        for (text, needle) in [
            (
                "[store]\nmax_attempts = 0\n",
                "max_attempts must be at least 1",
            ),
            (
                "[store]\nconnect_timeout_secs = -1\n",
                "connect_timeout_secs must be a positive",
            ),
            (
                "[state]\nshared = \"state-bucket/prod\"\n",
                "not an s3://bucket/prefix",
            ),
            (
                "[state]\nshared = \"s3://Bad_Bucket/x\"\n",
                "not an s3://bucket/prefix",
            ),
        ] {
            let e = load(text).unwrap_err().to_string();
            assert!(e.contains(needle), "{text}: {e}");
        }
    }

    #[test]
    fn ssm_parameters() {
        let c = load("[parameters]\n\"/macie_demo/patient_data_bucket\" = \"synthea\"\n").unwrap();
        assert_eq!(
            crate::params::resolve(&c, "ssm:/macie_demo/patient_data_bucket").unwrap(),
            "synthea"
        );
        assert_eq!(crate::params::resolve(&c, "plain").unwrap(), "plain");
        assert!(crate::params::resolve(&c, "ssm:/missing")
            .unwrap_err()
            .to_string()
            .contains("\"/missing\""));
    }

    #[test]
    fn server_settings_and_investigations_are_checked_at_load() {
        let c = load(
            "[server]\naudit_log = \"audit/a.jsonl\"\n[[investigations]]\nname = \"raw\"\ncriteria = { \"resourcesAffected.s3Bucket.name\" = { eq = [\"{bucket}\"] } }\nparameters = { bucket = \"\" }\n",
        )
        .unwrap();
        assert!(
            c.server.audit_log.ends_with("audit/a.jsonl") && c.server.audit_log.is_absolute(),
            "relative to the config file's folder"
        );
        assert_eq!(c.investigations[0].name, "raw");
        for (text, needle) in [
            ("[server]\ntls_cert = \"c.pem\"\n", "go together"),
            ("[server]\nreveals_per_minute = 0\n", "reveals_per_minute"),
            (
                "[[investigations]]\nname = \"a\"\n[[investigations]]\nname = \"a\"\n",
                "name of its own",
            ),
            (
                "[[investigations]]\nname = \"bad\"\ncriteria = { type = { like = [\"x\"] } }\n",
                "investigation \"bad\": findingCriteria.criterion.type.like",
            ),
            (
                "[[investigations]]\nname = \"g\"\ngroup_by = \"key\"\n",
                "groupBy",
            ),
            (
                "[[investigations]]\nname = \"t\"\ncritera = {}\n",
                "critera",
            ),
        ] {
            let e = format!("{:#}", load(text).unwrap_err());
            assert!(e.contains(needle), "{text}: {e}");
        }
    }
}
