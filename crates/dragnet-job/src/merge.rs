//! Combining the outputs of one job's shards or batches (each a `scan --out` folder) into one
//! output, as if one process had run the job: findings de-duplicated by their deterministic
//! id (a retried batch repeats them) and sorted by bucket and key, statistics added up
//! (shards count only their own objects, so the sums are a single run's), discovery result
//! files gathered (each shard's have their own name), and `job.json` rewritten.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

use dragnet_model::Finding;
use serde_json::Value;

use crate::run::RunStatistics;

/// Why outputs cannot be merged.
#[derive(Debug, thiserror::Error)]
pub enum MergeError {
    /// A file is missing or unreadable.
    #[error("{path}: {message}")]
    Input {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// The folders hold different jobs' outputs.
    #[error(
        "{first} is job {first_job} but {other} is job {other_job}; merge the outputs of one job"
    )]
    DifferentJobs {
        /// First folder.
        first: PathBuf,
        /// Its job.
        first_job: String,
        /// The folder that differs.
        other: PathBuf,
        /// Its job.
        other_job: String,
    },
    /// Sharded outputs do not cover every shard exactly once.
    #[error("the shards do not cover the job exactly once: {0}")]
    Shards(String),
    /// The merged output could not be written.
    #[error("writing {path}: {source}")]
    Output {
        /// The file or folder.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
}

/// What a merge produced.
#[derive(Debug)]
pub struct Merged {
    /// The merged findings, in bucket then key order.
    pub findings: Vec<Finding>,
    /// The summed statistics.
    pub statistics: RunStatistics,
    /// The job id.
    pub job_id: String,
}

fn input(path: &Path, message: impl std::fmt::Display) -> MergeError {
    MergeError::Input {
        path: path.to_path_buf(),
        message: message.to_string(),
    }
}

fn output(path: &Path) -> impl FnOnce(std::io::Error) -> MergeError + '_ {
    move |source| MergeError::Output {
        path: path.to_path_buf(),
        source,
    }
}

fn read_job(dir: &Path) -> Result<Value, MergeError> {
    let path = dir.join("job.json");
    let text = fs::read_to_string(&path).map_err(|e| input(&path, e))?;
    serde_json::from_str(&text).map_err(|e| input(&path, e))
}

/// Every shard `0..N` exactly once, all with the same N; or no shards at all (batches).
fn check_shards(shards: &[(PathBuf, Option<String>)]) -> Result<(), MergeError> {
    let given: Vec<(u32, u32)> = shards
        .iter()
        .filter_map(|(_, s)| {
            let (i, n) = s.as_deref()?.split_once('/')?;
            Some((i.parse().ok()?, n.parse().ok()?))
        })
        .collect();
    if given.is_empty() {
        return Ok(());
    }
    if given.len() != shards.len() {
        return Err(MergeError::Shards(
            "some folders are shards and some are not".into(),
        ));
    }
    let counts: BTreeSet<u32> = given.iter().map(|(_, n)| *n).collect();
    if counts.len() > 1 {
        return Err(MergeError::Shards(format!(
            "shard counts differ: {counts:?}"
        )));
    }
    let n = given[0].1;
    let mut seen = BTreeMap::new();
    for (i, _) in &given {
        *seen.entry(*i).or_insert(0u32) += 1;
    }
    let missing: Vec<String> = (0..n)
        .filter(|i| !seen.contains_key(i))
        .map(|i| format!("{i}/{n}"))
        .collect();
    let repeated: Vec<String> = seen
        .iter()
        .filter(|(_, c)| **c > 1)
        .map(|(i, _)| format!("{i}/{n}"))
        .collect();
    if !missing.is_empty() || !repeated.is_empty() {
        return Err(MergeError::Shards(format!(
            "missing [{}], given more than once [{}]",
            missing.join(", "),
            repeated.join(", ")
        )));
    }
    Ok(())
}

fn add_counts(into: &mut BTreeMap<String, u64>, from: &BTreeMap<String, u64>) {
    for (k, v) in from {
        *into.entry(k.clone()).or_default() += v;
    }
}

/// Merges the output folders `inputs` into `out` (created).
pub fn merge_outputs(inputs: &[PathBuf], out: &Path) -> Result<Merged, MergeError> {
    let first = inputs
        .first()
        .ok_or_else(|| input(Path::new("."), "no output folders to merge"))?;
    let first_job = read_job(first)?;
    let job_id = first_job["jobId"].as_str().unwrap_or_default().to_string();
    let mut shards = Vec::new();
    let mut statistics = RunStatistics::default();
    let mut findings: BTreeMap<String, Finding> = BTreeMap::new();
    fs::create_dir_all(out).map_err(output(out))?;
    for dir in inputs {
        let job = read_job(dir)?;
        let this_job = job["jobId"].as_str().unwrap_or_default();
        if this_job != job_id {
            return Err(MergeError::DifferentJobs {
                first: first.clone(),
                first_job: job_id,
                other: dir.clone(),
                other_job: this_job.to_string(),
            });
        }
        shards.push((dir.clone(), job["shard"].as_str().map(str::to_string)));
        let stats: RunStatistics = serde_json::from_value(job["runStatistics"].clone())
            .map_err(|e| input(&dir.join("job.json"), format!("runStatistics: {e}")))?;
        statistics.objects_listed += stats.objects_listed;
        statistics.objects_scanned += stats.objects_scanned;
        statistics.bytes_scanned += stats.bytes_scanned;
        add_counts(&mut statistics.objects_skipped, &stats.objects_skipped);
        add_counts(&mut statistics.objects_partial, &stats.objects_partial);
        // Shards run side by side: the job took as long as the slowest.
        statistics.wall_seconds = statistics.wall_seconds.max(stats.wall_seconds);
        let path = dir.join("findings.jsonl");
        let text = fs::read_to_string(&path).map_err(|e| input(&path, e))?;
        for (n, line) in text
            .lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty())
        {
            let finding: Finding = serde_json::from_str(line)
                .map_err(|e| input(&path, format!("line {}: {e}", n + 1)))?;
            findings.insert(finding.id.clone(), finding);
        }
        let results = dir.join("results");
        for file in dragnet_store::files_under(&results).map_err(|e| input(&results, e))? {
            let relative = file.strip_prefix(&results).expect("under results");
            let target = out.join("results").join(relative);
            if let Some(parent) = target.parent() {
                fs::create_dir_all(parent).map_err(output(parent))?;
            }
            fs::copy(&file, &target).map_err(output(&target))?;
        }
    }
    check_shards(&shards)?;
    let mut findings: Vec<Finding> = findings.into_values().collect();
    findings.sort_by(|a, b| {
        let key = |f: &Finding| {
            (
                f.resources_affected.s3_bucket.name.clone(),
                f.resources_affected.s3_object.key.clone(),
            )
        };
        key(a).cmp(&key(b))
    });
    for f in &findings {
        statistics.findings.add(f);
    }
    let findings_path = out.join("findings.jsonl");
    let mut text = String::new();
    for f in &findings {
        text.push_str(&serde_json::to_string(f).expect("serializable"));
        text.push('\n');
    }
    fs::write(&findings_path, text).map_err(output(&findings_path))?;
    let mut job = first_job;
    if let Some(map) = job.as_object_mut() {
        map.remove("shard");
        map.insert(
            "runStatistics".into(),
            serde_json::to_value(&statistics).expect("serializable"),
        );
    }
    let job_path = out.join("job.json");
    fs::write(
        &job_path,
        serde_json::to_vec_pretty(&job).expect("serializable"),
    )
    .map_err(output(&job_path))?;
    Ok(Merged {
        findings,
        statistics,
        job_id,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shard(i: u32, n: u32) -> (PathBuf, Option<String>) {
        (PathBuf::from(format!("s{i}")), Some(format!("{i}/{n}")))
    }

    #[test]
    fn shards_must_cover_the_job_exactly_once() {
        assert!(check_shards(&[shard(0, 3), shard(1, 3), shard(2, 3)]).is_ok());
        assert!(check_shards(&[(PathBuf::from("batch-1"), None)]).is_ok());
        let e = check_shards(&[shard(0, 3), shard(2, 3), shard(2, 3)])
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("missing [1/3]") && e.contains("more than once [2/3]"),
            "{e}"
        );
        let e = check_shards(&[shard(0, 2), shard(1, 3)])
            .unwrap_err()
            .to_string();
        assert!(e.contains("counts differ"), "{e}");
        let e = check_shards(&[shard(0, 1), (PathBuf::from("b"), None)])
            .unwrap_err()
            .to_string();
        assert!(e.contains("some folders are shards"), "{e}");
    }
}
