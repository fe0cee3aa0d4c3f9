//! The classification job engine: plan (buckets → listing → scoping → sampling → shard),
//! scan (bounded concurrency; per-object errors kept in statistics and results), judge and
//! emit (findings, discovery results, the job record).
#![warn(missing_docs)]

pub mod batch;
pub mod engine;
pub mod inventory;
pub mod merge;
mod ordered;
mod parallel;
mod parallel_records;
pub mod plan;
mod record_paths;
pub mod report;
pub mod run;
pub mod scan;
pub mod schedule;
pub mod scope;
pub mod shared;
pub mod state;
pub mod stored;
pub mod stored_findings;

pub use batch::{job_covers_bucket, parse_batch, Batch, BatchError};
pub use engine::{job_engine, ruleset_fingerprint, JobEngineError};
pub use merge::{merge_outputs, MergeError, Merged};
pub use plan::{Balance, Listing, PlanOptions, Shard};
pub use run::{
    run_job, run_job_observed, JobRun, NoObserver, NoProgress, ObjectDone, Progress, RunError,
    RunObserver, RunReport, RunStatistics,
};
pub use scan::{
    reveal_values, scan_reader, scan_reader_with, ObjectOutcome, ScanLimits, REVEAL_VALUE_CHARS,
};
pub use schedule::{next_run_after, TimeOfDay};
pub use shared::{Lease, Pulled, SharedState, SharedStateError};
pub use state::{JobRecord, JobStore, RunRecord, StateError};
pub use stored::{run_stored, StoredRunError, StoredRunOptions, StoredRunReport};
pub use stored_findings::{StoredFinding, TokenRecord};

use dragnet_model::ids::stable_hex_id;
use dragnet_model::JobSpec;

/// The job id of an ad-hoc scan (decisions.md §12): a hash of the spec's `clientToken` when
/// present, else of its canonical JSON, so shards and retries of one spec share ids.
pub fn adhoc_job_id(spec: &JobSpec) -> String {
    match &spec.client_token {
        Some(token) => stable_hex_id(&["job", "clientToken", token]),
        None => {
            // serde_json's map is ordered by key, so this text is canonical.
            let canonical = serde_json::to_value(spec)
                .map(|v| v.to_string())
                .unwrap_or_default();
            stable_hex_id(&["job", "spec", &canonical])
        }
    }
}

#[cfg(test)]
mod tests;
