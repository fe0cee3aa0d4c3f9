//! Scaling out: shards and batches of one job partition its objects, and `jobs merge` turns
//! their outputs into what a single run writes.

mod common;

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;

use common::*;

const SPEC: &str = r#"{"jobType":"ONE_TIME","managedDataIdentifierSelector":"ALL","s3JobDefinition":{"bucketDefinitions":[{"accountId":"111222333444","buckets":["data-bucket"]}]}}"#;

/// 40 CSV files (every other one holds an SSN), a JSON file and an unsupported image.
fn lake() -> tempfile::TempDir {
    let work = workdir();
    let bucket = work.path().join("buckets/data-bucket");
    fs::create_dir_all(bucket.join("exports")).unwrap();
    for i in 0..40 {
        let body = if i % 2 == 0 {
            format!("id,ssn\n{i},536-22-{:04}\n", 1000 + i)
        } else {
            format!("id,note\n{i},nothing here\n")
        };
        fs::write(bucket.join(format!("exports/{i:02}.csv")), body).unwrap();
    }
    fs::write(
        bucket.join("events.jsonl"),
        "{\"email\":\"jane@example.com\"}\n",
    )
    .unwrap();
    fs::write(bucket.join("logo.png"), b"\x89PNG\r\n").unwrap();
    fs::write(work.path().join("job.json"), SPEC).unwrap();
    fs::write(
        work.path().join("half.json"),
        SPEC.replace(
            r#""jobType":"ONE_TIME","#,
            r#""jobType":"ONE_TIME","samplingPercentage":50,"#,
        ),
    )
    .unwrap();
    work
}

/// The keys of the discovery results under `out`.
fn result_keys(out: &Path) -> Vec<String> {
    files_under(&out.join("results"))
        .iter()
        .flat_map(|p| {
            text_of(p)
                .lines()
                .map(|l| {
                    let r: serde_json::Value = serde_json::from_str(l).unwrap();
                    r["resourcesAffected"]["s3Object"]["key"]
                        .as_str()
                        .unwrap()
                        .to_string()
                })
                .collect::<Vec<_>>()
        })
        .collect()
}

/// Findings without what legitimately differs between runs (times, result file names).
fn comparable(out: &Path) -> Vec<serde_json::Value> {
    jsonl(&out.join("findings.jsonl"))
        .into_iter()
        .map(|mut f| {
            let map = f.as_object_mut().unwrap();
            map.remove("createdAt");
            map.remove("updatedAt");
            f["classificationDetails"]
                .as_object_mut()
                .unwrap()
                .remove("detailedResultsLocation");
            f
        })
        .collect()
}

fn statistics(out: &Path) -> serde_json::Value {
    let job: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(out.join("job.json")).unwrap()).unwrap();
    let mut stats = job["runStatistics"].clone();
    stats.as_object_mut().unwrap().remove("wallSeconds");
    stats
}

#[test]
fn shards_partition_the_objects_and_merge_into_the_single_run() {
    let work = lake();
    let dir = work.path();
    for spec in ["job.json", "half.json"] {
        let single = dir.join(format!("single-{spec}"));
        let o = dragnet(
            dir,
            &["scan", "--job", spec, "--out", single.to_str().unwrap()],
        );
        assert!(o.status.success(), "{}", stderr(&o));
        let all = result_keys(&single);
        for n in [1u32, 3, 16] {
            let mut outs = Vec::new();
            let mut seen = Vec::new();
            for i in 0..n {
                let out = dir.join(format!("{spec}-{i}-of-{n}"));
                let o = dragnet(
                    dir,
                    &[
                        "scan",
                        "--job",
                        spec,
                        "--out",
                        out.to_str().unwrap(),
                        "--shard",
                        &format!("{i}/{n}"),
                    ],
                );
                assert!(o.status.success(), "{}", stderr(&o));
                seen.extend(result_keys(&out));
                outs.push(out.to_str().unwrap().to_string());
            }
            // Disjoint and complete: every object once, in exactly one shard.
            let distinct: BTreeSet<&String> = seen.iter().collect();
            assert_eq!(
                distinct.len(),
                seen.len(),
                "{spec}, {n} shards: an object twice"
            );
            assert_eq!(
                distinct,
                all.iter().collect::<BTreeSet<_>>(),
                "{spec}, {n} shards"
            );
            let merged = dir.join(format!("{spec}-merged-{n}"));
            let mut args = vec!["jobs", "merge", "--out", merged.to_str().unwrap()];
            args.extend(outs.iter().map(String::as_str));
            let o = dragnet(dir, &args);
            assert!(o.status.success(), "{}", stderr(&o));
            assert_eq!(
                comparable(&merged),
                comparable(&single),
                "{spec}, {n} shards"
            );
            assert_eq!(
                statistics(&merged),
                statistics(&single),
                "{spec}, {n} shards"
            );
            let mut merged_keys = result_keys(&merged);
            merged_keys.sort();
            let mut all_sorted = all.clone();
            all_sorted.sort();
            assert_eq!(merged_keys, all_sorted);
        }
    }
}

#[test]
fn merge_refuses_incomplete_or_mixed_outputs() {
    let work = lake();
    let dir = work.path();
    for i in 0..3 {
        let o = dragnet(
            dir,
            &[
                "scan",
                "--job",
                "job.json",
                "--out",
                &format!("s{i}"),
                "--shard",
                &format!("{i}/3"),
            ],
        );
        assert!(o.status.success(), "{}", stderr(&o));
    }
    let o = dragnet(dir, &["jobs", "merge", "--out", "m", "s0", "s2"]);
    expect_failure(&o, 2, "missing [1/3]");
    let o = dragnet(dir, &["scan", "--job", "half.json", "--out", "other"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = dragnet(dir, &["jobs", "merge", "--out", "m", "s0", "other"]);
    expect_failure(&o, 2, "merge the outputs of one job");
    let o = dragnet(dir, &["scan", "--job", "job.json", "--shard", "auto/3"]);
    expect_failure(&o, 2, "JOB_COMPLETION_INDEX");
}

/// An S3 Inventory report (manifest + one gzip CSV data file) in the `inventory` bucket that
/// lists `keys` of `data-bucket`; returns the manifest's URI.
fn inventory(dir: &Path, keys: &[&str]) -> String {
    let root = dir.join("buckets/inventory/data-bucket/daily/2026-11-22T01-00Z");
    fs::create_dir_all(root.join("files")).unwrap();
    let mut csv = String::new();
    for key in keys {
        let path = dir.join("buckets/data-bucket").join(key);
        let size = fs::metadata(&path).unwrap().len();
        let encoded = key.replace(' ', "%20");
        csv.push_str(&format!(
            "\"data-bucket\",\"{encoded}\",\"{size}\",\"2026-11-21T10:00:00.000Z\",\"STANDARD\"\n"
        ));
    }
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(&mut gz, csv.as_bytes()).unwrap();
    fs::write(root.join("files/part-0.csv.gz"), gz.finish().unwrap()).unwrap();
    let manifest = serde_json::json!({
        "sourceBucket": "data-bucket",
        "destinationBucket": "arn:aws:s3:::inventory",
        "version": "2016-11-30",
        "fileFormat": "CSV",
        "fileSchema": "Bucket, Key, Size, LastModifiedDate, StorageClass",
        "files": [{"key": "data-bucket/daily/2026-11-22T01-00Z/files/part-0.csv.gz", "size": 1, "MD5checksum": "x"}],
    });
    fs::write(root.join("manifest.json"), manifest.to_string()).unwrap();
    "s3://inventory/data-bucket/daily/2026-11-22T01-00Z/manifest.json".into()
}

#[test]
fn an_s3_inventory_report_replaces_the_listing() {
    let work = lake();
    let dir = work.path();
    fs::write(
        dir.join("buckets/data-bucket/exports/late arrival.csv"),
        "id,ssn\n1,536-22-1999\n",
    )
    .unwrap();
    // The report lists 5 objects of the 43 (one with a space in its key); the others, and
    // anything that arrived after the report, are not looked at.
    let listed = [
        "exports/00.csv",
        "exports/01.csv",
        "exports/02.csv",
        "exports/late arrival.csv",
        "logo.png",
    ];
    let uri = inventory(dir, &listed);
    let o = dragnet(
        dir,
        &[
            "scan",
            "--job",
            "job.json",
            "--out",
            "inv",
            "--inventory",
            &uri,
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let summary = stdout_json(&o);
    assert_eq!(summary["runStatistics"]["objectsListed"], 5);
    let mut keys = result_keys(&dir.join("inv"));
    keys.sort();
    assert_eq!(
        keys,
        listed.iter().map(|k| k.to_string()).collect::<Vec<_>>()
    );
    assert_eq!(
        summary["findings"], 3,
        "00, 02 and the late arrival hold SSNs"
    );

    // Shards plan from the same report and merge into the same result, dealt by hash or
    // (byte-balanced) by size; byte-balanced shards also even out the bytes.
    let inventory_shards = |n: u32, balance: &str| -> Vec<u64> {
        let mut outs = Vec::new();
        let mut bytes = Vec::new();
        for i in 0..n {
            let out = format!("inv-{balance}-{i}");
            let shard = format!("{i}/{n}");
            let o = dragnet(
                dir,
                &[
                    "scan",
                    "--job",
                    "job.json",
                    "--out",
                    &out,
                    "--inventory",
                    &uri,
                    "--shard",
                    &shard,
                    "--shard-balance",
                    balance,
                ],
            );
            assert!(o.status.success(), "{}", stderr(&o));
            bytes.push(
                stdout_json(&o)["runStatistics"]["bytesScanned"]
                    .as_u64()
                    .unwrap(),
            );
            outs.push(out);
        }
        let merged = format!("inv-{balance}-merged");
        let mut args = vec!["jobs", "merge", "--out", &merged];
        args.extend(outs.iter().map(String::as_str));
        assert!(dragnet(dir, &args).status.success());
        assert_eq!(comparable(&dir.join(&merged)), comparable(&dir.join("inv")));
        bytes
    };
    inventory_shards(3, "hash");
    let bytes = inventory_shards(2, "bytes");
    let largest = listed
        .iter()
        .map(|k| {
            fs::metadata(dir.join("buckets/data-bucket").join(k))
                .unwrap()
                .len()
        })
        .max()
        .unwrap();
    assert!(bytes[0].abs_diff(bytes[1]) <= largest, "{bytes:?}");
    // Without a fixed listing, pods could disagree on the partition: refused.
    let o = dragnet(
        dir,
        &[
            "scan",
            "--job",
            "job.json",
            "--shard",
            "0/2",
            "--shard-balance",
            "bytes",
        ],
    );
    expect_failure(&o, 2, "--shard-balance bytes needs --inventory");

    // A report of another bucket, or one in ORC, is refused with the reason.
    let manifest = dir.join("buckets/inventory/data-bucket/daily/2026-11-22T01-00Z/manifest.json");
    let text = fs::read_to_string(&manifest).unwrap();
    fs::write(&manifest, text.replace("\"CSV\"", "\"ORC\"")).unwrap();
    let o = dragnet(dir, &["scan", "--job", "job.json", "--inventory", &uri]);
    expect_failure(&o, 2, "dragnet reads CSV and Parquet inventories");
    fs::write(
        &manifest,
        text.replace(
            "\"sourceBucket\":\"data-bucket\"",
            "\"sourceBucket\":\"elsewhere\"",
        ),
    )
    .unwrap();
    let o = dragnet(dir, &["scan", "--job", "job.json", "--inventory", &uri]);
    expect_failure(&o, 2, "not one of the job spec's buckets");
}

#[test]
fn findings_and_statistics_do_not_depend_on_the_thread_count() {
    let work = lake();
    let dir = work.path();
    let sample = repo().join("sample-data/buckets/synthea-data-111222333444-us-east-1");
    for name in ["patients.csv", "allergies.csv", "encounters.csv"] {
        fs::copy(
            sample.join(name),
            dir.join("buckets/data-bucket").join(name),
        )
        .unwrap();
    }
    for (threads, out) in [("1", "one"), ("4", "four")] {
        let o = dragnet(
            dir,
            &[
                "scan",
                "--job",
                "job.json",
                "--threads",
                threads,
                "--out",
                out,
            ],
        );
        assert!(o.status.success(), "{}", stderr(&o));
    }
    let one = comparable(&dir.join("one"));
    assert!(one.len() > 20, "{} findings", one.len());
    assert_eq!(one, comparable(&dir.join("four")));
    assert_eq!(statistics(&dir.join("one")), statistics(&dir.join("four")));
}
