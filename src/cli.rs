//! Command-line arguments (ARCHITECTURE.md "CLI contract").

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// Find sensitive data in S3-style buckets, the way Amazon Macie does: same job specs, same
/// custom identifiers, same finding JSON.
#[derive(Debug, Parser)]
#[command(name = "dragnet", version, propagate_version = true, after_help = EXAMPLES)]
pub struct Cli {
    /// More log output on stderr (-v info, -vv debug); DRAGNET_LOG overrides.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
    #[command(subcommand)]
    pub command: Command,
}

const EXAMPLES: &str = "Examples:
  dragnet demo                                   # the whole story on the bundled sample data
  dragnet scan --config sample-data/dragnet.toml --job sample-data/jobs/one-time.json --out out
  dragnet classify patients.csv --managed ALL
  dragnet identifiers list
  dragnet identifiers test --regex '[S]{1}\\d{8}' --keyword DRIVERS --text 'DRIVERS S99984236'
  dragnet quarantine --event finding-event.json
  dragnet sample-data --scale 1 --out /tmp/synthea";

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the bundled sample job end to end in a work folder: scan, route findings through
    /// the rules, quarantine High findings, write alerts.
    Demo(DemoArgs),
    /// Run a classification job (a Macie CreateClassificationJob JSON) once.
    Scan(ScanArgs),
    /// Run a job over one batch of objects (a Step Functions Distributed Map batch), the unit
    /// of work of a scaled-out scan; same outputs as `scan`.
    ScanBatch(ScanBatchArgs),
    /// Classify one local file (or stdin) and print its discovery result as JSON.
    Classify(ClassifyArgs),
    /// List or try data identifiers.
    #[command(subcommand)]
    Identifiers(IdentifiersCommand),
    /// Create, list, run, pause, resume and cancel stored jobs (one-time and scheduled).
    #[command(subcommand)]
    Jobs(JobsCommand),
    /// Run stored jobs on their schedules, serve the findings API and console, stop cleanly
    /// on SIGTERM.
    Serve(ServeArgs),
    /// Create, list and revoke API tokens (the secret is shown once, only its hash is kept).
    #[command(subcommand)]
    Tokens(TokensCommand),
    /// Query stored findings: ListFindings criteria, saved investigations.
    #[command(subcommand)]
    Findings(FindingsCommand),
    /// Mask sensitive values in a CSV/TSV, JSON/JSON Lines or text file or stream.
    Mask(MaskArgs),
    /// Act on a finding: move its object to the isolation bucket (copy, verify, delete), or
    /// move it back.
    Quarantine(QuarantineArgs),
    /// Write Synthea-format CSV sample data (scale 1 is about 80 MB).
    SampleData(SampleDataArgs),
}

/// `dragnet demo`.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Work folder (created; the repository's files are never modified).
    #[arg(long, default_value = "dragnet-demo")]
    pub workdir: PathBuf,
}

/// `dragnet quarantine`.
#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("what").required(true).args(["event", "restore", "queue_url"])))]
pub struct QuarantineArgs {
    /// A finding event (EventBridge envelope) or a finding, as a JSON file; - for stdin.
    #[arg(long)]
    pub event: Option<PathBuf>,
    /// Move the object of this finding id back from the isolation bucket.
    #[arg(long, value_name = "FINDING_ID")]
    pub restore: Option<String>,
    /// Move the objects of the finding events arriving on this SQS queue (fed by an
    /// EventBridge rule); a message is deleted only after its move succeeded.
    #[arg(long, value_name = "URL")]
    pub queue_url: Option<String>,
    /// With --queue-url: stop when the queue has nothing new (else run until SIGTERM).
    #[arg(long, requires = "queue_url")]
    pub once: bool,
    /// Config file (default: ./dragnet.toml when present).
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Isolation bucket (default: the config's quarantine.bucket).
    #[arg(long)]
    pub bucket: Option<String>,
    /// Key prefix in the isolation bucket (default: the config's quarantine.prefix).
    #[arg(long)]
    pub prefix: Option<String>,
}

/// `dragnet scan`.
#[derive(Debug, Args)]
#[command(
    after_help = "Writes findings.jsonl, results/**.jsonl.gz and job.json under --out; prints a JSON summary on stdout."
)]
pub struct ScanArgs {
    /// The job spec (the JSON `aws macie2 create-classification-job --cli-input-json` takes).
    #[arg(long)]
    pub job: PathBuf,
    /// Custom identifier files (JSON arrays of CreateCustomDataIdentifier objects plus `id`).
    #[arg(long = "identifiers")]
    pub identifiers: Vec<PathBuf>,
    /// Allow list files.
    #[arg(long = "allow-list")]
    pub allow_lists: Vec<PathBuf>,
    /// Config file (default: ./dragnet.toml when present).
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Output folder.
    #[arg(long, default_value = "dragnet-out")]
    pub out: PathBuf,
    /// Scan only shard I of N (0-based), by a stable hash of bucket and key; `auto/N` takes I
    /// from JOB_COMPLETION_INDEX (Kubernetes Indexed Job) or AWS_BATCH_JOB_ARRAY_INDEX.
    #[arg(long, value_name = "I/N")]
    pub shard: Option<String>,
    /// How objects are dealt to shards: `hash` (stable hash of bucket and key, the default),
    /// or `bytes` (even bytes per shard, largest objects first), which needs --inventory so
    /// every shard plans from the same fixed listing.
    #[arg(
        long,
        value_name = "hash|bytes",
        default_value = "hash",
        requires = "shard"
    )]
    pub shard_balance: String,
    /// Scan only the objects of this batch instead of listing the buckets (see scan-batch).
    #[arg(skip)]
    pub batch: Option<PathBuf>,
    /// Plan from an S3 Inventory report (`s3://bucket/.../manifest.json`, CSV or Parquet, in
    /// the configured store) instead of listing its source bucket.
    #[arg(long, value_name = "MANIFEST_URI")]
    pub inventory: Option<String>,
    /// Job name when the spec has none (default: the spec's file name).
    #[arg(long)]
    pub name: Option<String>,
    /// Worker threads (default: config, else the machine's cores).
    #[arg(long)]
    pub threads: Option<usize>,
    /// Do not route findings through the configured event rules.
    #[arg(long)]
    pub no_events: bool,
}

/// `dragnet scan-batch`.
#[derive(Debug, Args)]
#[command(
    after_help = "The input is what a Distributed Map with an S3 ItemReader and an ItemBatcher passes: {\"Items\": [{\"Key\", \"Size\", \"LastModified\", \"Etag\", \"StorageClass\"}...], \"BatchInput\": {\"Bucket\": \"...\"}}. Scoping and sampling apply to the items as to a listing; finding ids are those a single run would give, so `dragnet jobs merge` can combine batches."
)]
pub struct ScanBatchArgs {
    /// The batch document; - for stdin.
    #[arg(long)]
    pub input: PathBuf,
    #[command(flatten)]
    pub scan: ScanArgs,
}

/// `dragnet classify`.
#[derive(Debug, Args)]
pub struct ClassifyArgs {
    /// The file, or - for stdin.
    pub file: PathBuf,
    /// Reader to use.
    #[arg(long, default_value = "auto", value_parser = ["auto", "csv", "tsv", "text", "json", "jsonl"])]
    pub format: String,
    /// Custom identifier files (all identifiers in them are used).
    #[arg(long = "identifiers")]
    pub identifiers: Vec<PathBuf>,
    /// Managed identifiers: ALL, RECOMMENDED, NONE, or ids separated by commas.
    #[arg(long, default_value = "ALL")]
    pub managed: String,
    /// Config file (default: ./dragnet.toml when present).
    #[arg(long)]
    pub config: Option<PathBuf>,
}

/// `dragnet identifiers ...`.
#[derive(Debug, Subcommand)]
pub enum IdentifiersCommand {
    /// List the managed identifiers.
    List {
        /// `table` or `json`.
        #[arg(long, default_value = "table", value_parser = ["table", "json"])]
        format: String,
    },
    /// Try a custom identifier on a sample text, like Macie's TestCustomDataIdentifier.
    Test(TestArgs),
    /// Run every managed identifier's positive and negative examples; exit 1 if any fails.
    Check,
    /// Precision and recall of every managed identifier on a labelled corpus.
    Accuracy(AccuracyArgs),
}

/// `dragnet identifiers accuracy`.
#[derive(Debug, Args)]
pub struct AccuracyArgs {
    /// The corpus: JSON Lines of `{"text", "labels", "column"?}` (see
    /// sample-data/accuracy/generate.py).
    #[arg(long, default_value = "sample-data/accuracy/corpus.jsonl")]
    pub corpus: PathBuf,
    /// `table` or `markdown` (the README's table).
    #[arg(long, default_value = "table", value_parser = ["table", "markdown"])]
    pub format: String,
    /// Exit 1 when an identifier with a validator scores under 0.98 precision or recall, or
    /// NAME or ADDRESS under 0.90.
    #[arg(long)]
    pub check: bool,
    /// Also list each misjudged case by its corpus line, with the identifiers missed and
    /// found unexpectedly (never the case's text, which may hold real values).
    #[arg(long)]
    pub errors: bool,
}

/// `dragnet identifiers test`.
#[derive(Debug, Args)]
pub struct TestArgs {
    /// The regex (Macie's dialect).
    #[arg(long)]
    pub regex: String,
    /// Keywords (one must precede a match).
    #[arg(long = "keyword")]
    pub keywords: Vec<String>,
    /// Ignore words (a match containing one is dropped).
    #[arg(long = "ignore-word")]
    pub ignore_words: Vec<String>,
    /// Maximum match distance (1-300).
    #[arg(long)]
    pub max_match_distance: Option<i64>,
    /// The sample text (at most 1,000 characters).
    #[arg(long)]
    pub text: String,
    /// Show matched values instead of masking them.
    #[arg(long)]
    pub reveal: bool,
}

/// `dragnet sample-data`.
#[derive(Debug, Args)]
pub struct SampleDataArgs {
    /// Size: 1 is about 80 MB (1,171 patients); fractions allowed.
    #[arg(long, default_value_t = 1.0)]
    pub scale: f64,
    /// Output folder (the 16 CSV files go directly in it).
    #[arg(long)]
    pub out: PathBuf,
    /// Random seed (same seed, same bytes).
    #[arg(long, default_value_t = 2020)]
    pub seed: u64,
    /// Leave out the JSON Lines, log and archive variants under landing/.
    #[arg(long)]
    pub csv_only: bool,
}

/// Options every `jobs` command takes.
#[derive(Debug, Args)]
pub struct JobsCommon {
    /// Config file (default: ./dragnet.toml when present); the job store is its `[state] path`.
    #[arg(long, global = true)]
    pub config: Option<PathBuf>,
}

/// `dragnet tokens ...`.
#[derive(Debug, Subcommand)]
pub enum TokensCommand {
    /// Create a token; prints it once (store it now: only its hash is kept).
    Create {
        /// Who or what the token is for (shown in listings and the audit log).
        #[arg(long)]
        name: String,
        /// viewer, investigator, operator or admin.
        #[arg(long, value_parser = ["viewer", "investigator", "operator", "admin"])]
        role: String,
        /// Reveals may read objects already moved to the isolation bucket.
        #[arg(long)]
        reads_isolation: bool,
        #[command(flatten)]
        common: JobsCommon,
    },
    /// List tokens (never their secrets).
    List {
        #[command(flatten)]
        common: JobsCommon,
    },
    /// Revoke a token by id; it stops working at once.
    Revoke {
        /// Token id (`tok_...`).
        id: String,
        #[command(flatten)]
        common: JobsCommon,
    },
}

/// `dragnet findings ...`.
#[derive(Debug, Subcommand)]
pub enum FindingsCommand {
    /// Stored findings meeting ListFindings criteria, one JSON finding per line.
    List {
        /// `findingCriteria` as JSON (e.g. '{"criterion": {"severity.description": {"eq": ["High"]}}}').
        #[arg(long)]
        criteria: Option<String>,
        /// Sort attribute (default: newest first).
        #[arg(long)]
        sort: Option<String>,
        /// Sort descending.
        #[arg(long)]
        desc: bool,
        /// At most this many findings (default all).
        #[arg(long)]
        max: Option<usize>,
        #[command(flatten)]
        common: JobsCommon,
    },
    /// Run a saved investigation (built-in or `[[investigations]]` in the config).
    Query {
        /// Investigation name (`dragnet findings investigations` lists them).
        name: String,
        /// A parameter, NAME=VALUE (repeatable).
        #[arg(long = "param", value_name = "NAME=VALUE")]
        params: Vec<String>,
        /// `json` (one line per finding, or the counts) or `table`.
        #[arg(long, default_value = "table", value_parser = ["table", "json"])]
        format: String,
        #[command(flatten)]
        common: JobsCommon,
    },
    /// List the saved investigations.
    Investigations {
        #[command(flatten)]
        common: JobsCommon,
    },
}

/// `dragnet jobs ...`.
#[derive(Debug, Subcommand)]
pub enum JobsCommand {
    /// Store a job from a spec; prints `{jobArn, jobId}` like CreateClassificationJob.
    Create {
        /// The job spec.
        spec: PathBuf,
        /// Job name when the spec has none.
        #[arg(long)]
        name: Option<String>,
        #[command(flatten)]
        common: JobsCommon,
    },
    /// List jobs (filters as in ListClassificationJobs).
    List {
        /// `table` or `json`.
        #[arg(long, default_value = "table", value_parser = ["table", "json"])]
        format: String,
        /// Only jobs with this status.
        #[arg(long)]
        status: Option<String>,
        /// Only jobs of this type (ONE_TIME or SCHEDULED).
        #[arg(long = "type")]
        job_type: Option<String>,
        /// Only jobs whose name contains this.
        #[arg(long)]
        name: Option<String>,
        #[command(flatten)]
        common: JobsCommon,
    },
    /// A job in DescribeClassificationJob shape, with its last run's statistics.
    Describe {
        /// Job id.
        id: String,
        #[command(flatten)]
        common: JobsCommon,
    },
    /// Run a job now (or resume its unfinished run).
    Run(JobsRunArgs),
    /// Pause a job (USER_PAUSED).
    Pause {
        /// Job id.
        id: String,
        #[command(flatten)]
        common: JobsCommon,
    },
    /// Resume a paused job.
    Resume {
        /// Job id.
        id: String,
        #[command(flatten)]
        common: JobsCommon,
    },
    /// Cancel a job for good.
    Cancel {
        /// Job id.
        id: String,
        #[command(flatten)]
        common: JobsCommon,
    },
    /// A job's runs with their statistics.
    History {
        /// Job id.
        id: String,
        #[command(flatten)]
        common: JobsCommon,
    },
    /// Combine the output folders of one job's shards (`scan --shard`) or batches
    /// (`scan-batch`) into one, as a single run would have written it.
    Merge {
        /// The output folders.
        #[arg(required = true)]
        dirs: Vec<PathBuf>,
        /// Where the merged findings.jsonl, results/ and job.json go.
        #[arg(long)]
        out: PathBuf,
    },
    /// A job's status log: one JSON line per event.
    Events {
        /// Job id.
        id: String,
        #[command(flatten)]
        common: JobsCommon,
    },
}

/// `dragnet jobs run`.
#[derive(Debug, Args)]
pub struct JobsRunArgs {
    /// Job id.
    pub id: String,
    /// Output folder.
    #[arg(long, default_value = "dragnet-out")]
    pub out: PathBuf,
    /// Custom identifier files (besides the config's).
    #[arg(long = "identifiers")]
    pub identifiers: Vec<PathBuf>,
    /// Allow list files (besides the config's).
    #[arg(long = "allow-list")]
    pub allow_lists: Vec<PathBuf>,
    /// Do not route findings through the configured event rules.
    #[arg(long)]
    pub no_events: bool,
    #[command(flatten)]
    pub common: JobsCommon,
}

/// `dragnet serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Config file (default: ./dragnet.toml when present): `[server] listen`, `[state]`.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Seconds between looks for due jobs.
    #[arg(long, default_value_t = 30)]
    pub tick: u64,
}

/// `dragnet mask`.
#[derive(Debug, Args)]
#[command(
    after_help = "Policies: dragnet's form {\"identifiers\": [...], \"rules\": [{\"identifiers\"|\"categories\": [...], \"operator\": ...}], \"default\": ...}, or a CloudWatch Logs data protection policy document. Keyed operators (hash, formatPreserving) take their key from DRAGNET_MASK_KEY.\nExample: tail -F app.log | dragnet mask - --follow"
)]
pub struct MaskArgs {
    /// The file, or - for stdin.
    pub file: PathBuf,
    /// Masking policy file (default: every managed identifier with its default operator).
    #[arg(long)]
    pub policy: Option<PathBuf>,
    /// Format (auto: by extension; stdin is text).
    #[arg(long, default_value = "auto", value_parser = ["auto", "csv", "tsv", "json", "jsonl", "text"])]
    pub format: String,
    /// Where the masked data goes (default: stdout).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Write audit findings (identifier, count, location; never the value) here, as JSON Lines.
    #[arg(long)]
    pub audit: Option<PathBuf>,
    /// Flush every line as soon as it is masked (for log forwarding).
    #[arg(long)]
    pub follow: bool,
    /// Custom identifier files whose identifiers are masked too.
    #[arg(long = "identifiers")]
    pub identifiers: Vec<PathBuf>,
    /// Config file (default: ./dragnet.toml when present).
    #[arg(long)]
    pub config: Option<PathBuf>,
}
