//! The commands: each loads what it needs, calls the crates, and prints.

use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, Result};
use dragnet_detect::{AllowMatcher, Engine, Qualification, MANAGED};
use dragnet_formats::Format;
use dragnet_job::report::{report, ObjectRef, RunIdentity};
use dragnet_job::{adhoc_job_id, run_job, Balance, JobRun, Listing, PlanOptions, RunReport, Shard};
use dragnet_model::identifiers::CustomDataIdentifier;
use dragnet_model::Timestamp;
use dragnet_store::{BucketInfo, ObjectMeta, ObjectStore};

use crate::cli::{
    ClassifyArgs, Cli, Command, IdentifiersCommand, MaskArgs, QuarantineArgs, SampleDataArgs,
    ScanArgs, TestArgs,
};
use crate::config::Config;
use crate::progress::{summary_table, StderrProgress};
use crate::react::{configured_bus, print_route_report, route, send_job_summary, RouteReport};
use crate::{demo, load, sample, Exit};

/// Runs the parsed command line.
pub fn run(cli: Cli) -> Result<ExitCode, Exit> {
    match cli.command {
        Command::Demo(args) => demo::run(&args.workdir),
        Command::Scan(args) => scan(args),
        Command::ScanBatch(args) => {
            if args.scan.shard.is_some() {
                return Err(anyhow::anyhow!(
                    "scan-batch takes no --shard: the batch is already the unit of work"
                )
                .into());
            }
            scan(ScanArgs {
                batch: Some(args.input),
                ..args.scan
            })
        }
        Command::Quarantine(args) => quarantine_command(args),
        Command::Jobs(cmd) => crate::jobs::run(cmd),
        Command::Serve(args) => crate::serve::run(args),
        Command::Tokens(cmd) => crate::findings::tokens(cmd),
        Command::Findings(cmd) => crate::findings::findings(cmd),
        Command::Mask(args) => mask_command(args),
        Command::Classify(args) => classify(args),
        Command::Identifiers(IdentifiersCommand::List { format }) => identifiers_list(&format),
        Command::Identifiers(IdentifiersCommand::Test(args)) => identifiers_test(args),
        Command::Identifiers(IdentifiersCommand::Check) => identifiers_check(),
        Command::Identifiers(IdentifiersCommand::Accuracy(args)) => crate::accuracy::run(&args),
        Command::SampleData(args) => sample_data(args),
    }
}

/// The config named on the command line, else `./dragnet.toml`, else the defaults.
pub fn config(path: Option<&Path>) -> anyhow::Result<(Config, Option<PathBuf>)> {
    match path {
        Some(p) => Ok((Config::load(p)?, Some(p.to_path_buf()))),
        None if Path::new("dragnet.toml").is_file() => Ok((
            Config::load(Path::new("dragnet.toml"))?,
            Some(PathBuf::from("dragnet.toml")),
        )),
        None => Ok((Config::default_in(Path::new(".")), None)),
    }
}

/// Environment variables that give a worker its index, in the order they are looked up.
const SHARD_INDEX_VARS: [&str; 2] = ["JOB_COMPLETION_INDEX", "AWS_BATCH_JOB_ARRAY_INDEX"];

/// `I/N`, or `auto/N` with I from the first of [`SHARD_INDEX_VARS`] that `var` has.
fn parse_shard(
    value: &str,
    balance: Balance,
    var: impl Fn(&str) -> Option<String>,
) -> anyhow::Result<Shard> {
    let (i, n) = value.split_once('/').unwrap_or((value, ""));
    let index = if i.trim() == "auto" {
        let (name, index) = SHARD_INDEX_VARS
            .iter()
            .find_map(|name| var(name).map(|v| (*name, v)))
            .with_context(|| {
                format!(
                    "--shard {value:?}: auto needs {} (Kubernetes Indexed Job) or {} (AWS Batch array job) in the environment",
                    SHARD_INDEX_VARS[0], SHARD_INDEX_VARS[1]
                )
            })?;
        index
            .trim()
            .parse::<u32>()
            .with_context(|| format!("--shard {value:?}: {name}={index:?} is not a number"))?
    } else {
        i.trim().parse().map_err(|_| {
            anyhow::anyhow!("--shard {value:?}: expected I/N with 0 <= I < N, e.g. 0/4, or auto/N")
        })?
    };
    match n.trim().parse::<u32>() {
        Ok(count) if count >= 1 && index < count => Ok(Shard {
            index,
            count,
            balance,
        }),
        _ => anyhow::bail!(
            "--shard {value:?}: expected I/N with 0 <= I < N, e.g. 0/4, or auto/N (got index {index})"
        ),
    }
}

/// The objects an S3 Inventory report lists, as the listing of its source bucket.
fn inventory_listing(
    uri: &str,
    store: &dyn ObjectStore,
    spec: &dragnet_model::JobSpec,
) -> Result<Listing> {
    let (bucket, key) = uri
        .strip_prefix("s3://")
        .and_then(|rest| rest.split_once('/'))
        .with_context(|| format!("--inventory {uri:?}: expected s3://bucket/path/manifest.json"))?;
    let read = |bucket: &str, key: &str| -> Result<Vec<u8>> {
        let mut bytes = Vec::new();
        store
            .get(bucket, key)
            .and_then(|mut body| {
                body.read_to_end(&mut bytes)
                    .map_err(|e| dragnet_store::StoreError::Io {
                        context: format!("reading s3://{bucket}/{key}"),
                        source: e,
                    })
            })
            .with_context(|| format!("reading the S3 Inventory file s3://{bucket}/{key}"))?;
        Ok(bytes)
    };
    let manifest =
        dragnet_job::inventory::parse_manifest(&String::from_utf8_lossy(&read(bucket, key)?))
            .with_context(|| format!("s3://{bucket}/{key}"))?;
    if !dragnet_job::job_covers_bucket(spec, &manifest.source_bucket) {
        anyhow::bail!(
            "s3://{bucket}/{key} lists bucket {:?}, which is not one of the job spec's buckets",
            manifest.source_bucket
        );
    }
    let mut objects = Vec::new();
    for file in &manifest.files {
        let data = read(&manifest.destination_bucket, file)?;
        objects.extend(dragnet_job::inventory::read_data_file(
            &manifest,
            file,
            &data[..],
        )?);
    }
    tracing::info!(bucket = %manifest.source_bucket, objects = objects.len(), "planning from an S3 Inventory report");
    Ok(Listing::from([(manifest.source_bucket, objects)]))
}

/// The batch of `scan-batch` as a listing, checked against the spec's buckets.
fn batch_listing(path: &Path, spec: &dragnet_model::JobSpec) -> Result<Listing> {
    let text = if path.as_os_str() == "-" {
        let mut t = String::new();
        io::stdin()
            .read_to_string(&mut t)
            .context("reading the batch from stdin")?;
        t
    } else {
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?
    };
    let batch = dragnet_job::parse_batch(&text).with_context(|| format!("{}", path.display()))?;
    if !dragnet_job::job_covers_bucket(spec, &batch.bucket) {
        anyhow::bail!(
            "{}: $.BatchInput.Bucket {:?} is not one of the job spec's buckets",
            path.display(),
            batch.bucket
        );
    }
    Ok(Listing::from([(batch.bucket, batch.objects)]))
}

/// Everything `scan` and `demo` share: load, run, print.
pub struct ScanSetup {
    /// The run.
    pub job: JobRun,
    /// The engine.
    pub engine: Engine,
    /// The store.
    pub store: Arc<dyn ObjectStore>,
}

/// Loads the spec, identifiers and allow lists of a scan.
pub fn prepare_scan(args: &ScanArgs, config: &Config) -> Result<ScanSetup, Exit> {
    let spec = load::job_spec(&args.job, args.name.as_deref(), config)?;
    let store = crate::store::open(config)?;
    let mut id_files = config.identifiers.clone();
    id_files.extend(args.identifiers.iter().cloned());
    let custom = load::custom_identifiers(&id_files)?;
    let mut allow_files = config.allow_lists.clone();
    allow_files.extend(args.allow_lists.iter().cloned());
    let allow = load::allow_lists(&allow_files, store.as_ref())?;
    let engine = dragnet_job::job_engine(&spec, &custom, &allow)
        .with_context(|| format!("job spec {}", args.job.display()))?;
    let balance = match args.shard_balance.as_str() {
        "hash" => Balance::Hash,
        "bytes" if args.inventory.is_some() => Balance::Bytes,
        "bytes" => {
            return Err(anyhow::anyhow!(
                "--shard-balance bytes needs --inventory: every shard must plan from the same fixed listing, and a live bucket's listing can change between pods"
            )
            .into())
        }
        other => {
            return Err(
                anyhow::anyhow!("--shard-balance {other:?}: use hash or bytes").into(),
            )
        }
    };
    let shard = args
        .shard
        .as_deref()
        .map(|s| parse_shard(s, balance, |name| std::env::var(name).ok()))
        .transpose()?;
    let listing = match (&args.batch, &args.inventory) {
        (Some(_), Some(_)) => {
            return Err(anyhow::anyhow!("a batch and --inventory cannot be combined").into())
        }
        (Some(path), None) => Some(batch_listing(path, &spec)?),
        (None, Some(uri)) => Some(inventory_listing(uri, store.as_ref(), &spec)?),
        (None, None) => None,
    };
    let threads = args.threads.or(config.threads).unwrap_or_else(|| {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    });
    let job = JobRun {
        job_id: adhoc_job_id(&spec),
        created_at: Timestamp::now(),
        region: config.region.clone(),
        plan: PlanOptions {
            default_account: config.account_id.clone(),
            sampling_seed: config.sampling.seed,
            listing,
            shard,
        },
        threads,
        spec,
        results_location: config.results.location.clone(),
    };
    Ok(ScanSetup { job, engine, store })
}

/// Runs a prepared scan with progress on stderr.
pub fn execute_scan(setup: &ScanSetup, out: &Path) -> Result<RunReport, Exit> {
    let progress = StderrProgress::new();
    let report = run_job(
        &setup.job,
        &setup.engine,
        setup.store.as_ref(),
        out,
        &progress,
    )
    .map_err(Exit::failed)?;
    progress.finish();
    Ok(report)
}

fn scan(args: ScanArgs) -> Result<ExitCode, Exit> {
    let (config, _) = config(args.config.as_deref())?;
    let setup = prepare_scan(&args, &config)?;
    // Rules are checked before the scan, so a bad rules file costs nothing.
    let bus = if args.no_events {
        None
    } else {
        configured_bus(&config)?
    };
    let report = execute_scan(&setup, &args.out)?;
    // Before any event announces a finding, its detailedResultsLocation must exist.
    crate::results::export(&config, setup.store.as_ref(), &args.out).map_err(Exit::failed)?;
    eprint!("{}", summary_table(&report));
    let mut routed = match &bus {
        Some(bus) => Some(
            route(bus, &config, setup.store.as_ref(), &report.findings).map_err(Exit::failed)?,
        ),
        None => None,
    };
    if !args.no_events {
        let name = setup.job.spec.name.as_deref().unwrap_or(&setup.job.job_id);
        send_job_summary(&config, name, &report.statistics, &mut routed).map_err(Exit::failed)?;
    }
    if let Some(r) = &routed {
        print_route_report(r);
    }
    print_scan_json(&setup, &report, routed.as_ref())?;
    bucket_errors(&report)?;
    delivery_failures(routed.as_ref(), &config)
}

/// Exit 1 when any target delivery failed (the events are in the dead-letter file).
pub fn delivery_failures(routed: Option<&RouteReport>, config: &Config) -> Result<ExitCode, Exit> {
    let failed = routed.map_or(0, |r| r.failed().len());
    if failed == 0 {
        return Ok(ExitCode::SUCCESS);
    }
    Err(Exit::failed(anyhow::anyhow!(
        "{failed} target deliveries failed after retries; their events are in {}",
        config.events.dead_letter.display()
    )))
}

/// Exit 1, naming every bucket that could not be read, when any could not.
pub fn bucket_errors(report: &RunReport) -> Result<ExitCode, Exit> {
    if report.bucket_errors.is_empty() {
        return Ok(ExitCode::SUCCESS);
    }
    let list: Vec<String> = report
        .bucket_errors
        .iter()
        .map(|(b, e)| format!("{b}: {e}"))
        .collect();
    Err(Exit::failed(anyhow::anyhow!(
        "the job could not read {} bucket(s); the other buckets were scanned:\n  {}",
        list.len(),
        list.join("\n  ")
    )))
}

fn print_scan_json(
    setup: &ScanSetup,
    report: &RunReport,
    routed: Option<&RouteReport>,
) -> Result<(), Exit> {
    let mut summary = serde_json::json!({
        "jobId": setup.job.job_id,
        "findings": report.findings.len(),
        "findingsFile": report.findings_path,
        "resultsFiles": report.result_files,
        "jobFile": report.job_path,
        "runStatistics": report.statistics,
    });
    if let Some(r) = routed {
        summary["events"] = serde_json::json!({
            "deliveries": r.deliveries.len(),
            "failed": r.failed().len(),
            "quarantined": r.actions.quarantined.iter().map(|(from, to)| serde_json::json!({"from": from, "to": to})).collect::<Vec<_>>(),
            "tagged": r.actions.tagged.iter().map(|(o, t)| serde_json::json!({"object": o, "tag": t})).collect::<Vec<_>>(),
            "alerts": r.actions.alerts,
        });
    }
    let mut out = io::stdout().lock();
    serde_json::to_writer_pretty(&mut out, &summary).map_err(anyhow::Error::from)?;
    writeln!(out).map_err(anyhow::Error::from)?;
    Ok(())
}

fn classify(args: ClassifyArgs) -> Result<ExitCode, Exit> {
    let (config, _) = config(args.config.as_deref())?;
    let mut files = config.identifiers.clone();
    files.extend(args.identifiers.iter().cloned());
    let custom: Vec<CustomDataIdentifier> = load::custom_identifiers(&files)?;
    let managed = load::managed_option(&args.managed)?;
    let engine = Engine::new(&managed, &custom, AllowMatcher::default())?;
    let format = match args.format.as_str() {
        "auto" => None,
        name => Format::from_name(name),
    };
    let stdin = args.file.as_os_str() == "-";
    let key = if stdin {
        "stdin".to_string()
    } else {
        args.file.to_string_lossy().into_owned()
    };
    let (body, meta): (Box<dyn Read + Send>, ObjectMeta) = if stdin {
        let meta = ObjectMeta {
            key: key.clone(),
            size: 0,
            last_modified: Timestamp::now(),
            etag: None,
            storage_class: "STANDARD".into(),
            version_id: None,
        };
        (Box::new(io::stdin()), meta)
    } else {
        let file = std::fs::File::open(&args.file)
            .with_context(|| format!("opening {}", args.file.display()))?;
        let m = file
            .metadata()
            .with_context(|| format!("reading {}", args.file.display()))?;
        if !m.is_file() {
            return Err(anyhow::anyhow!("{} is not a file", args.file.display()).into());
        }
        let meta = ObjectMeta {
            key: key.clone(),
            size: m.len(),
            last_modified: m
                .modified()
                .map(Timestamp::from_system_time)
                .unwrap_or(Timestamp::now()),
            etag: None,
            storage_class: "STANDARD".into(),
            version_id: None,
        };
        (Box::new(file), meta)
    };
    // One object: its CSV cells or text lines get every core.
    let limits = dragnet_job::ScanLimits {
        unit_threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
        ..dragnet_job::ScanLimits::default()
    };
    let outcome = dragnet_job::scan_reader_with(&engine, &key, body, format, limits);
    let meta = ObjectMeta {
        size: meta.size.max(outcome.size_classified),
        ..meta
    };
    let bucket = BucketInfo {
        name: "local-files".into(),
        created_at: None,
        tags: Default::default(),
        security: None,
    };
    let identity = RunIdentity {
        job_id: "classify".into(),
        region: config.region.clone(),
    };
    let object = ObjectRef {
        account_id: &config.account_id,
        bucket: &bucket,
        meta: &meta,
        details: &Default::default(),
    };
    let (_, result) = report(&engine, &identity, object, &outcome, "", Timestamp::now());
    let mut out = io::stdout().lock();
    serde_json::to_writer_pretty(&mut out, &result).map_err(anyhow::Error::from)?;
    writeln!(out).map_err(anyhow::Error::from)?;
    Ok(ExitCode::SUCCESS)
}

/// `identifiers check`: one line per identifier, then the failures; exit 1 on any.
fn identifiers_check() -> Result<ExitCode, Exit> {
    let checks = dragnet_detect::check_catalog();
    let mut out = io::stdout().lock();
    let width = checks.iter().map(|c| c.id.len()).max().unwrap_or(2);
    let mut failed = 0;
    for c in &checks {
        let verdict = if c.failures.is_empty() {
            "ok"
        } else {
            "FAILED"
        };
        writeln!(out, "{:<width$} {verdict:<6} {} examples", c.id, c.examples)
            .map_err(anyhow::Error::from)?;
        for f in &c.failures {
            failed += 1;
            writeln!(out, "  {}", f.problem).map_err(anyhow::Error::from)?;
        }
    }
    if failed > 0 {
        return Err(Exit::failed(anyhow::anyhow!(
            "{failed} example(s) of the managed identifiers misbehave"
        )));
    }
    writeln!(
        out,
        "{} identifiers, {} examples, all as expected",
        checks.len(),
        checks.iter().map(|c| c.examples).sum::<usize>()
    )
    .map_err(anyhow::Error::from)?;
    Ok(ExitCode::SUCCESS)
}

fn identifiers_list(format: &str) -> Result<ExitCode, Exit> {
    let mut out = io::stdout().lock();
    if format == "json" {
        let items: Vec<serde_json::Value> = MANAGED
            .iter()
            .map(|m| {
                serde_json::json!({
                    "id": m.id,
                    "category": m.category.as_str(),
                    "keywordRequired": m.keyword_required(),
                    "keywords": m.keywords,
                    "recommended": m.recommended,
                    "extension": m.extension,
                    "cloudWatchName": m.cloudwatch_name,
                    "note": m.note,
                })
            })
            .collect();
        serde_json::to_writer_pretty(&mut out, &items).map_err(anyhow::Error::from)?;
        writeln!(out).map_err(anyhow::Error::from)?;
    } else {
        let width = MANAGED.iter().map(|m| m.id.len()).max().unwrap_or(2);
        writeln!(
            out,
            "{:<width$} {:<22} {:<9} {:<12} CLOUDWATCH NAME",
            "ID", "CATEGORY", "KEYWORD", "RECOMMENDED"
        )
        .map_err(anyhow::Error::from)?;
        for m in MANAGED {
            writeln!(
                out,
                "{:<width$} {:<22} {:<9} {:<12} {}",
                m.id,
                m.category.as_str(),
                if m.keyword_required() {
                    "required"
                } else {
                    "-"
                },
                if m.recommended { "yes" } else { "-" },
                m.cloudwatch_name.unwrap_or("-")
            )
            .map_err(anyhow::Error::from)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Replaces every character with `*`, keeping the length (CloudWatch Logs' masking).
pub fn mask(value: &str) -> String {
    "*".repeat(value.chars().count())
}

fn identifiers_test(args: TestArgs) -> Result<ExitCode, Exit> {
    if args.text.chars().count() > 1000 {
        return Err(anyhow::anyhow!("--text: at most 1,000 characters are accepted (as in Macie's TestCustomDataIdentifier)").into());
    }
    let cdi = CustomDataIdentifier {
        id: "test".into(),
        name: "test".into(),
        regex: args.regex,
        description: None,
        keywords: args.keywords,
        ignore_words: args.ignore_words,
        maximum_match_distance: args.max_match_distance,
        severity_levels: None,
        client_token: None,
        tags: None,
    };
    cdi.validate(&dragnet_model::JsonPath::root())
        .map_err(|e| anyhow::anyhow!("{}", e.to_string().replace("(document)", "identifier")))?;
    let engine = Engine::new(&[], std::slice::from_ref(&cdi), AllowMatcher::default())?;
    let mut hits = Vec::new();
    engine.scan(
        args.text.as_bytes(),
        &Qualification::default(),
        0,
        &mut hits,
    );
    let matches: Vec<serde_json::Value> = hits
        .iter()
        .map(|h| {
            let value = String::from_utf8_lossy(&args.text.as_bytes()[h.start..h.end]).into_owned();
            let start = args.text[..h.start].chars().count();
            serde_json::json!({"value": if args.reveal { value } else { mask(&value) }, "start": start})
        })
        .collect();
    let mut out = io::stdout().lock();
    let body = serde_json::json!({"matchCount": hits.len(), "matches": matches});
    serde_json::to_writer_pretty(&mut out, &body).map_err(anyhow::Error::from)?;
    writeln!(out).map_err(anyhow::Error::from)?;
    Ok(ExitCode::SUCCESS)
}

fn quarantine_command(args: QuarantineArgs) -> Result<ExitCode, Exit> {
    let (config, _) = config(args.config.as_deref())?;
    let store = crate::store::open(&config)?;
    let store = store.as_ref();
    let bucket = crate::params::resolve(
        &config,
        args.bucket.as_deref().unwrap_or(&config.quarantine.bucket),
    )?;
    let iso = dragnet_quarantine::Isolation {
        bucket,
        prefix: args
            .prefix
            .unwrap_or_else(|| config.quarantine.prefix.clone()),
        purge_noncurrent_versions: config.quarantine.purge_noncurrent_versions,
    };
    if let Some(url) = &args.queue_url {
        return crate::consumer::run(&config, store, &iso, url, args.once);
    }
    let out = if let Some(path) = &args.event {
        let text = if path.as_os_str() == "-" {
            let mut t = String::new();
            io::stdin()
                .read_to_string(&mut t)
                .context("reading the event from stdin")?;
            t
        } else {
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?
        };
        let value: serde_json::Value =
            serde_json::from_str(&text).with_context(|| format!("{}: not JSON", path.display()))?;
        let request = dragnet_quarantine::QuarantineRequest::from_json(&value)
            .with_context(|| format!("{}", path.display()))?;
        dragnet_quarantine::quarantine(store, &request, &iso, "dragnet quarantine")
            .map_err(Exit::failed)?
            .summary()
    } else {
        let finding_id = args.restore.as_deref().unwrap_or_default();
        let record = dragnet_quarantine::restore(store, &iso, finding_id).map_err(Exit::failed)?;
        serde_json::json!({"status": "RESTORED", "record": record})
    };
    let mut stdout = io::stdout().lock();
    serde_json::to_writer_pretty(&mut stdout, &out).map_err(anyhow::Error::from)?;
    writeln!(stdout).map_err(anyhow::Error::from)?;
    Ok(ExitCode::SUCCESS)
}

fn mask_command(args: MaskArgs) -> Result<ExitCode, Exit> {
    use dragnet_mask::{MaskFormat, MaskPolicy, Masker};
    let (config, _) = config(args.config.as_deref())?;
    let policy = match &args.policy {
        Some(p) => {
            let text = std::fs::read_to_string(p)
                .with_context(|| format!("reading masking policy {}", p.display()))?;
            MaskPolicy::parse(&text).with_context(|| format!("masking policy {}", p.display()))?
        }
        None => MaskPolicy::defaults(),
    };
    let keyed = policy.rules.iter().any(|(_, op)| op.needs_key())
        || policy.default.as_ref().is_some_and(|op| op.needs_key());
    let key = std::env::var("DRAGNET_MASK_KEY").unwrap_or_default();
    if keyed && key.is_empty() {
        return Err(anyhow::anyhow!("the policy uses a keyed operator (hash or formatPreserving): set DRAGNET_MASK_KEY to the masking key").into());
    }
    let mut files = config.identifiers.clone();
    files.extend(args.identifiers.iter().cloned());
    let custom = load::custom_identifiers(&files)?;
    let mut masker = Masker::new(policy, &custom, key.into_bytes())?;
    let stdin = args.file.as_os_str() == "-";
    let ext = args
        .file
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    let format = match (args.format.as_str(), ext.as_str()) {
        ("csv", _) | ("auto", "csv") if !stdin || args.format == "csv" => MaskFormat::Csv,
        ("tsv", _) | ("auto", "tsv") => MaskFormat::Tsv,
        ("json", _) | ("auto", "json") => MaskFormat::Json,
        ("jsonl", _) | ("auto", "jsonl" | "ndjson") => MaskFormat::JsonLines,
        _ => MaskFormat::Text,
    };
    let input: Box<dyn io::BufRead> = if stdin {
        Box::new(io::BufReader::new(io::stdin()))
    } else {
        Box::new(io::BufReader::new(
            std::fs::File::open(&args.file)
                .with_context(|| format!("opening {}", args.file.display()))?,
        ))
    };
    let mut output: Box<dyn Write> = match &args.out {
        Some(p) => Box::new(io::BufWriter::new(
            std::fs::File::create(p).with_context(|| format!("creating {}", p.display()))?,
        )),
        None if args.follow => Box::new(io::stdout()),
        None => Box::new(io::BufWriter::new(io::stdout())),
    };
    let mut audit_file = match &args.audit {
        Some(p) => Some(io::BufWriter::new(
            std::fs::File::create(p).with_context(|| format!("creating {}", p.display()))?,
        )),
        None => None,
    };
    let source = if stdin {
        "stdin".to_string()
    } else {
        args.file.display().to_string()
    };
    let summary = masker
        .mask_stream(
            format,
            &source,
            input,
            &mut output,
            audit_file.as_mut().map(|w| w as &mut dyn Write),
            args.follow,
        )
        .map_err(|e| Exit::failed(anyhow::anyhow!("masking {source}: {e}")))?;
    if let Some(mut a) = audit_file {
        a.flush().map_err(anyhow::Error::from)?;
    }
    let total: u64 = summary.masked.values().sum();
    if !args.follow {
        eprintln!(
            "masked {total} values in {} units of {source}",
            summary.units
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn sample_data(args: SampleDataArgs) -> Result<ExitCode, Exit> {
    if !(args.scale > 0.0 && args.scale <= 1000.0) {
        return Err(
            anyhow::anyhow!("--scale {}: must be above 0 and at most 1000", args.scale).into(),
        );
    }
    let mut written = sample::generate(&args.out, args.scale, args.seed).map_err(Exit::failed)?;
    if !args.csv_only {
        written.extend(sample::generate_variants(&args.out, args.seed).map_err(Exit::failed)?);
    }
    let total: u64 = written.iter().map(|(_, b)| b).sum();
    for (name, bytes) in &written {
        eprintln!("{:>12} bytes  {}", bytes, args.out.join(name).display());
    }
    eprintln!("{:>12} bytes  total", total);
    Ok(ExitCode::SUCCESS)
}
