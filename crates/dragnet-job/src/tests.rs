//! Runs of small jobs over a folder store.

use std::collections::BTreeMap;
use std::io::Read;

use dragnet_detect::{AllowMatcher, Engine, ManagedIdentifier, MANAGED};
use dragnet_model::identifiers::parse_custom_identifiers;
use dragnet_model::{FindingType, JobSpec, SeverityLevel, Timestamp};
use dragnet_store::{DirStore, ObjectAttributes, ObjectStore};

use crate::plan::{plan, Action};
use crate::*;

const BUCKET: &str = "data-bucket";

fn spec(extra: &str) -> JobSpec {
    JobSpec::from_json(&format!(
        r#"{{"jobType":"ONE_TIME","managedDataIdentifierSelector":"ALL",{extra}"s3JobDefinition":{{"bucketDefinitions":[{{"accountId":"111222333444","buckets":["{BUCKET}"]}}]}}}}"#
    ))
    .unwrap()
}

fn engine() -> Engine {
    let all: Vec<&ManagedIdentifier> = MANAGED.iter().collect();
    let custom = parse_custom_identifiers(
        r#"[{"id":"pid","name":"Patient ID","regex":"P-\\d{4}","keywords":["PATIENT"]}]"#,
    )
    .unwrap();
    Engine::new(&all, &custom, AllowMatcher::default()).unwrap()
}

fn store() -> (tempfile::TempDir, DirStore) {
    let dir = tempfile::tempdir().unwrap();
    let s = DirStore::new(dir.path().join("buckets"));
    s.create_bucket(BUCKET).unwrap();
    (dir, s)
}

fn put(s: &DirStore, key: &str, body: &str) {
    s.put(
        BUCKET,
        key,
        &mut body.as_bytes(),
        &ObjectAttributes::default(),
    )
    .unwrap();
}

fn job(spec: JobSpec, threads: usize) -> JobRun {
    JobRun {
        job_id: adhoc_job_id(&spec),
        spec,
        region: "us-east-1".into(),
        created_at: Timestamp::now(),
        plan: PlanOptions {
            default_account: "111222333444".into(),
            sampling_seed: 42,
            listing: None,
            shard: None,
        },
        threads,
        results_location: None,
    }
}

fn run(s: &DirStore, spec: JobSpec, threads: usize) -> (tempfile::TempDir, RunReport) {
    let out = tempfile::tempdir().unwrap();
    let report = run_job(&job(spec, threads), &engine(), s, out.path(), &NoProgress).unwrap();
    (out, report)
}

#[test]
fn a_small_job_end_to_end() {
    let (_d, s) = store();
    let mut rows = String::from("PATIENT,SSN,NOTE\n");
    for i in 0..20 {
        rows.push_str(&format!("P-{:04},536-22-{:04},fine\n", i, 1000 + i));
    }
    put(&s, "people.csv", &rows);
    put(&s, "clean.csv", "A,B\n1,2\n");
    put(&s, "broken.csv", "A,B\n1,2,3\nssn 536-22-1234,x\n");
    put(&s, "image.png", "not really");
    put(
        &s,
        "notes/log.txt",
        "contact jane.doe@example.com\nnothing\n",
    );
    let (out, report) = run(&s, spec(""), 2);
    let st = &report.statistics;
    assert_eq!(st.objects_listed, 5);
    assert_eq!(st.objects_scanned, 4);
    assert_eq!(
        st.objects_skipped,
        BTreeMap::from([("UNSUPPORTED_FILE_TYPE_EXCEPTION".to_string(), 1)])
    );
    assert_eq!(
        st.objects_partial,
        BTreeMap::from([("MALFORMED_FILE".to_string(), 1)])
    );
    assert_eq!(
        report.findings.len(),
        3,
        "people.csv, broken.csv and log.txt"
    );

    let people = report
        .findings
        .iter()
        .find(|f| f.resources_affected.s3_object.key == "people.csv")
        .unwrap();
    assert_eq!(people.finding_type, FindingType::Multiple);
    assert_eq!(
        people.severity.0,
        SeverityLevel::Medium,
        "20 SSNs and custom Medium"
    );
    let result = &people.classification_details.result;
    assert!(result.additional_occurrences);
    let ssn = &result.sensitive_data[0].detections[0];
    assert_eq!(
        (ssn.detection_type.as_str(), ssn.count),
        ("USA_SOCIAL_SECURITY_NUMBER", 20)
    );
    let cells = ssn.occurrences.cells.as_ref().unwrap();
    assert_eq!(cells.len(), 15, "findings list at most 15 locations");
    assert_eq!(
        (cells[0].row, cells[0].column, cells[0].column_name.as_str()),
        (2, 2, "SSN")
    );
    let custom = &result.custom_data_identifiers;
    assert_eq!(
        (
            custom.total_count,
            custom.detections[0].name.as_str(),
            custom.detections[0].arn.as_str()
        ),
        (20, "Patient ID", "pid")
    );
    assert_eq!(people.resources_affected.s3_object.e_tag.len(), 32);
    assert_eq!(
        people.resources_affected.s3_object.path,
        format!("{BUCKET}/people.csv")
    );
    assert!(people
        .classification_details
        .job_arn
        .starts_with("arn:aws:macie2:us-east-1:111222333444:classification-job/"));

    let broken = report
        .findings
        .iter()
        .find(|f| f.resources_affected.s3_object.key == "broken.csv")
        .unwrap();
    assert_eq!(broken.classification_details.result.status.code, "PARTIAL");
    assert_eq!(
        broken
            .classification_details
            .result
            .status
            .reason
            .as_deref(),
        Some("MALFORMED_FILE")
    );

    let log = report
        .findings
        .iter()
        .find(|f| f.resources_affected.s3_object.key == "notes/log.txt")
        .unwrap();
    let lines = log.classification_details.result.sensitive_data[0].detections[0]
        .occurrences
        .line_ranges
        .as_ref()
        .unwrap();
    assert_eq!((lines[0].start, lines[0].start_column), (1, 9));
    assert_eq!(log.severity.0, SeverityLevel::Low);

    // Discovery results: one per object considered, with up to 1,000 locations.
    let mut text = String::new();
    flate2::read::GzDecoder::new(std::fs::File::open(&report.result_files[0]).unwrap())
        .read_to_string(&mut text)
        .unwrap();
    let results: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(results.len(), 5);
    let people_result = results
        .iter()
        .find(|r| r["resourcesAffected"]["s3Object"]["key"] == "people.csv")
        .unwrap();
    assert_eq!(
        people_result["classificationDetails"]["result"]["sensitiveData"][0]["detections"][0]
            ["occurrences"]["cells"]
            .as_array()
            .unwrap()
            .len(),
        20
    );
    let png = results
        .iter()
        .find(|r| r["resourcesAffected"]["s3Object"]["key"] == "image.png")
        .unwrap();
    assert_eq!(
        png["classificationDetails"]["result"]["status"]["code"],
        "SKIPPED"
    );
    assert!(people
        .classification_details
        .detailed_results_location
        .starts_with("file://"));

    let job_json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.path().join("job.json")).unwrap()).unwrap();
    assert_eq!(job_json["jobStatus"], "COMPLETE");
    assert_eq!(job_json["lastRunErrorStatus"]["code"], "NONE");
    assert_eq!(
        job_json["runStatistics"]["findings"]["byType"]["SensitiveData:S3Object/Multiple"],
        1
    );
    assert_eq!(
        job_json["s3JobDefinition"]["bucketDefinitions"][0]["buckets"][0],
        BUCKET
    );
}

#[test]
fn results_are_identical_with_one_and_many_threads() {
    let (_d, s) = store();
    for i in 0..12 {
        put(
            &s,
            &format!("f{i:02}.csv"),
            &format!("SSN,EMAIL\n536-22-{:04},u{i}@example.com\n", 1000 + i),
        );
    }
    let strip = |r: &RunReport| -> Vec<serde_json::Value> {
        r.findings
            .iter()
            .map(|f| {
                let mut v = serde_json::to_value(f).unwrap();
                v["createdAt"] = serde_json::Value::Null;
                v["updatedAt"] = serde_json::Value::Null;
                v["classificationDetails"]["detailedResultsLocation"] = serde_json::Value::Null;
                v
            })
            .collect()
    };
    let (_o1, one) = run(&s, spec(""), 1);
    let (_o2, many) = run(&s, spec(""), 4);
    assert_eq!(one.findings.len(), 12);
    assert_eq!(strip(&one), strip(&many));
}

#[test]
fn sampling_is_reproducible_and_exact() {
    let (_d, s) = store();
    for i in 0..40 {
        put(&s, &format!("f{i:02}.csv"), "A\n1\n");
    }
    let options = PlanOptions {
        default_account: "111222333444".into(),
        sampling_seed: 7,
        listing: None,
        shard: None,
    };
    let picked = |seed: u64, pct: i64| -> Vec<String> {
        let spec = spec(&format!(r#""samplingPercentage":{pct},"#));
        let p = plan(
            &spec,
            &s,
            &PlanOptions {
                sampling_seed: seed,
                listing: None,
                ..options.clone()
            },
            &crate::run::NoObserver,
        );
        p.objects.iter().map(|o| o.meta.key.clone()).collect()
    };
    let a = picked(7, 25);
    assert_eq!(a.len(), 10);
    assert_eq!(a, picked(7, 25), "same seed, same sample");
    assert_ne!(a, picked(8, 25), "another seed, another sample");
    assert_eq!(picked(7, 1).len(), 1, "rounds up");
    assert_eq!(picked(7, 100).len(), 40);
    let p = plan(
        &spec(r#""samplingPercentage":25,"#),
        &s,
        &options,
        &crate::run::NoObserver,
    );
    assert_eq!(p.skipped["NOT_SAMPLED"], 30);
}

#[test]
fn shards_partition_the_objects() {
    let (_d, s) = store();
    for i in 0..50 {
        put(&s, &format!("k{i}.txt"), "x");
    }
    for n in [1u32, 3, 16] {
        let mut seen = Vec::new();
        for i in 0..n {
            let options = PlanOptions {
                default_account: "1".into(),
                sampling_seed: 1,
                listing: None,
                shard: Some(Shard {
                    index: i,
                    count: n,
                    balance: Default::default(),
                }),
            };
            seen.extend(
                plan(&spec(""), &s, &options, &crate::run::NoObserver)
                    .objects
                    .into_iter()
                    .map(|o| o.meta.key),
            );
        }
        seen.sort();
        let mut all: Vec<String> = (0..50).map(|i| format!("k{i}.txt")).collect();
        all.sort();
        assert_eq!(seen, all, "{n} shards are disjoint and complete");
    }
}

#[test]
fn scoping_happens_before_reading_and_is_counted() {
    let (_d, s) = store();
    put(&s, "keep/a.csv", "A\n1\n");
    put(&s, "skip/b.csv", "A\n1\n");
    put(&s, "keep/c.json", "{}");
    let spec = spec(r#""description":"d","#);
    let mut spec = spec;
    spec.s3_job_definition.scoping = JobSpec::from_json(r#"{"jobType":"ONE_TIME","s3JobDefinition":{"bucketDefinitions":[{"accountId":"111222333444","buckets":["b"]}],"scoping":{"includes":{"and":[{"simpleScopeTerm":{"comparator":"STARTS_WITH","key":"OBJECT_KEY","values":["keep/"]}},{"simpleScopeTerm":{"comparator":"EQ","key":"OBJECT_EXTENSION","values":["csv"]}}]}}}}"#).unwrap().s3_job_definition.scoping;
    let options = PlanOptions {
        default_account: "1".into(),
        sampling_seed: 1,
        listing: None,
        shard: None,
    };
    let p = plan(&spec, &s, &options, &crate::run::NoObserver);
    assert_eq!(p.listed, 3);
    assert_eq!(p.skipped["EXCLUDED_BY_SCOPE"], 2);
    assert_eq!(p.objects.len(), 1);
    assert_eq!(p.objects[0].action, Action::Scan);
}

#[test]
fn a_missing_bucket_is_reported_and_the_rest_runs() {
    let (_d, s) = store();
    put(&s, "a.csv", "SSN\n536-22-1234\n");
    let spec = JobSpec::from_json(&format!(
        r#"{{"jobType":"ONE_TIME","s3JobDefinition":{{"bucketDefinitions":[{{"accountId":"111222333444","buckets":["no-such-bucket","{BUCKET}"]}}]}}}}"#
    ))
    .unwrap();
    let (out, report) = run(&s, spec, 2);
    assert_eq!(report.bucket_errors.len(), 1);
    assert!(report.bucket_errors[0].1.contains("does not exist"));
    assert_eq!(report.findings.len(), 1);
    let job_json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.path().join("job.json")).unwrap()).unwrap();
    assert_eq!(job_json["lastRunErrorStatus"]["code"], "ERROR");
}

#[test]
fn job_ids_are_stable() {
    let a = spec("");
    assert_eq!(adhoc_job_id(&a), adhoc_job_id(&spec("")));
    assert_ne!(
        adhoc_job_id(&a),
        adhoc_job_id(&spec(r#""description":"other","#))
    );
    let with_token = spec(r#""clientToken":"t1","#);
    assert_eq!(
        adhoc_job_id(&with_token),
        adhoc_job_id(&spec(r#""clientToken":"t1","description":"x","#))
    );
}

#[test]
fn per_object_read_errors_are_recorded_and_the_job_goes_on() {
    let (_d, s) = store();
    for key in ["denied.csv", "gone.csv", "flaky.csv", "ok.csv"] {
        put(&s, key, "SSN\n536-22-1234\n");
    }
    let faulty = dragnet_store::faulty::FaultyStore::new(s);
    faulty
        .faults
        .get_denied
        .lock()
        .unwrap()
        .insert("denied.csv".into());
    faulty
        .faults
        .get_gone
        .lock()
        .unwrap()
        .insert("gone.csv".into());
    // The first line arrives, then the connection breaks.
    faulty
        .faults
        .get_breaks_after
        .lock()
        .unwrap()
        .insert("flaky.csv".into(), 16);
    let out = tempfile::tempdir().unwrap();
    let report = run_job(
        &job(spec(""), 2),
        &engine(),
        &faulty,
        out.path(),
        &NoProgress,
    )
    .unwrap();
    let st = &report.statistics;
    assert_eq!(st.objects_listed, 4);
    assert_eq!(st.objects_scanned, 2, "ok.csv fully, flaky.csv in part");
    assert_eq!(
        st.objects_skipped,
        BTreeMap::from([
            ("PERMISSION_DENIED".to_string(), 1),
            ("SOURCE_OBJECT_NO_LONGER_AVAILABLE".to_string(), 1)
        ])
    );
    assert_eq!(
        st.objects_partial,
        BTreeMap::from([("UNABLE_TO_PARSE_FILE".to_string(), 1)])
    );
    let flaky = report
        .findings
        .iter()
        .find(|f| f.resources_affected.s3_object.key == "flaky.csv")
        .unwrap();
    assert_eq!(flaky.classification_details.result.status.code, "PARTIAL");
    assert_eq!(
        report.findings.len(),
        2,
        "what was read before the error is still reported"
    );
}

mod formats {
    //! Fixture tests for every format: positives at the right location, negatives not found,
    //! and hostile inputs with the right status.

    use std::io::Write;

    use super::*;
    use crate::scan::{scan_reader, scan_reader_with, ScanLimits};

    fn result_of(key: &str, bytes: &[u8]) -> (ObjectOutcome, serde_json::Value) {
        result_with(key, bytes, ScanLimits::default())
    }

    fn result_with(
        key: &str,
        bytes: &[u8],
        limits: ScanLimits,
    ) -> (ObjectOutcome, serde_json::Value) {
        let engine = engine();
        let outcome = scan_reader_with(&engine, key, bytes, None, limits);
        let judged = outcome
            .detections
            .as_ref()
            .map(|d| d.judge(&engine, dragnet_detect::RESULT_LOCATION_CAP));
        let json = serde_json::json!({
            "sensitiveData": judged.as_ref().map(|j| serde_json::to_value(&j.sensitive_data).unwrap()),
            "custom": judged.as_ref().map(|j| serde_json::to_value(&j.custom_data_identifiers).unwrap()),
        });
        (outcome, json)
    }

    fn detections(v: &serde_json::Value) -> Vec<(String, serde_json::Value)> {
        let mut out = Vec::new();
        for cat in v["sensitiveData"].as_array().into_iter().flatten() {
            for d in cat["detections"].as_array().unwrap() {
                out.push((
                    d["type"].as_str().unwrap().to_string(),
                    d["occurrences"].clone(),
                ));
            }
        }
        out
    }

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(bytes).unwrap();
        e.finish().unwrap()
    }

    fn tar(files: &[(&str, &[u8])]) -> Vec<u8> {
        let mut b = tar::Builder::new(Vec::new());
        for (name, data) in files {
            let mut h = tar::Header::new_gnu();
            h.set_size(data.len() as u64);
            h.set_mode(0o644);
            h.set_cksum();
            b.append_data(&mut h, name, *data).unwrap();
        }
        b.into_inner().unwrap()
    }

    fn zip(files: &[(&str, &[u8])], method: zip::CompressionMethod) -> Vec<u8> {
        let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        for (name, data) in files {
            w.start_file(
                *name,
                zip::write::SimpleFileOptions::default().compression_method(method),
            )
            .unwrap();
            w.write_all(data).unwrap();
        }
        w.finish().unwrap().into_inner()
    }

    #[test]
    fn json_records_with_paths_and_keyword_paths() {
        let doc = br#"{"customer": {"ssn": "536-22-1234", "email": "jane@example.com"}, "note": "536-22-9999"}"#;
        let (o, v) = result_of("people.json", doc);
        assert_eq!(
            (o.status, o.mime_type.as_str()),
            ("COMPLETE", "application/json")
        );
        let d = detections(&v);
        assert!(
            d.contains(&(
                "USA_SOCIAL_SECURITY_NUMBER".into(),
                serde_json::json!({"records": [{"jsonPath": "$.customer.ssn", "recordIndex": 0}]})
            )),
            "{d:?}"
        );
        assert!(d.iter().any(
            |(t, o)| t == "EMAIL_ADDRESS" && o["records"][0]["jsonPath"] == "$.customer.email"
        ));
        // `note` has no keyword in its path: its SSN-shaped value does not count.
        assert_eq!(
            d.iter()
                .filter(|(t, _)| t == "USA_SOCIAL_SECURITY_NUMBER")
                .count(),
            1
        );
    }

    #[test]
    fn a_keyword_anywhere_in_the_path_qualifies() {
        let doc =
            br#"{"credentials": {"aws": {"key": "Xq3v9ZkL2mN8pR4sT6uW1yA5bC7dE0fG/hJ+kM2n"}}}"#;
        let (_, v) = result_of("c.json", doc);
        let d = detections(&v);
        assert_eq!(d[0].0, "AWS_CREDENTIALS");
        assert_eq!(d[0].1["records"][0]["jsonPath"], "$.credentials.aws.key");
    }

    #[test]
    fn json_lines_record_index_is_the_line() {
        let (o, v) = result_of(
            "events.jsonl",
            b"{\"msg\": \"hi\"}\n{\"contact\": \"jane@example.com\"}\n",
        );
        assert_eq!(o.mime_type, "application/x-ndjson");
        assert_eq!(
            detections(&v)[0].1["records"][0],
            serde_json::json!({"jsonPath": "$.contact", "recordIndex": 1})
        );
    }

    #[test]
    fn json_inside_a_string_is_found_with_its_inner_path() {
        let event = br#"{"type": "ExecutionStarted", "details": {"input": "{\"name\": \"Jane Smith\", \"email\": \"jane@example.com\", \"order-id\": \"A-1\"}"}}"#;
        let (_, v) = result_of("sfn.json", event);
        let paths: Vec<String> = detections(&v)
            .iter()
            .map(|(t, o)| format!("{t} {}", o["records"][0]["jsonPath"].as_str().unwrap()))
            .collect();
        assert!(
            paths.contains(&"EMAIL_ADDRESS $.details.input.email".to_string()),
            "{paths:?}"
        );
        assert!(
            paths.contains(&"NAME $.details.input.name".to_string()),
            "{paths:?}"
        );
    }

    #[test]
    fn sensitive_keys_hide_the_path() {
        let (_, v) = result_of("m.json", br#"{"jane@example.com": {"plan": "gold"}}"#);
        assert_eq!(
            detections(&v)[0].1["records"][0],
            serde_json::json!({"jsonPath": null, "recordIndex": 0})
        );
    }

    #[test]
    fn deep_json_is_skipped_with_macies_reason() {
        let deep = format!("{}\"x\"{}", "[".repeat(300), "]".repeat(300));
        let (o, _) = result_of("deep.json", deep.as_bytes());
        assert_eq!(
            (o.status, o.reason.as_deref()),
            ("SKIPPED", Some("JSON_NESTING_LEVEL_OVER_LIMIT"))
        );
    }

    #[test]
    fn gzip_is_read_as_its_content() {
        let (o, v) = result_of(
            "export/people.csv.gz",
            &gzip(b"SSN,EMAIL\n536-22-1234,jane@example.com\n"),
        );
        assert_eq!(
            (o.status, o.mime_type.as_str()),
            ("COMPLETE", "application/gzip")
        );
        let d = detections(&v);
        assert!(
            d.iter()
                .any(|(t, o)| t == "USA_SOCIAL_SECURITY_NUMBER"
                    && o["cells"][0]["columnName"] == "SSN"),
            "{d:?}"
        );
    }

    #[test]
    fn a_truncated_gzip_is_partial() {
        let mut data = gzip(&b"SSN\n536-22-1234\n".repeat(10_000));
        data.truncate(data.len() / 2);
        let (o, v) = result_of("t.csv.gz", &data);
        assert_eq!(o.status, "PARTIAL", "{:?}", o.reason);
        assert!(!detections(&v).is_empty(), "what was read is reported");
    }

    #[test]
    fn tar_and_zip_members_are_named_in_results_and_left_out_of_findings() {
        let csv: &[u8] = b"SSN\n536-22-1234\n";
        let log: &[u8] = b"contact jane@example.com\n";
        for (key, bytes) in [
            (
                "drop.tar",
                tar(&[("a/people.csv", csv), ("logs/app.log", log)]),
            ),
            (
                "drop.tgz",
                gzip(&tar(&[("a/people.csv", csv), ("logs/app.log", log)])),
            ),
            (
                "drop.zip",
                zip(
                    &[("a/people.csv", csv), ("logs/app.log", log)],
                    zip::CompressionMethod::Deflated,
                ),
            ),
        ] {
            let (o, v) = result_of(key, &bytes);
            assert_eq!(o.status, "COMPLETE", "{key}: {:?}", o.reason);
            let d = detections(&v);
            let ssn = d
                .iter()
                .find(|(t, _)| t == "USA_SOCIAL_SECURITY_NUMBER")
                .unwrap_or_else(|| panic!("{key}: {d:?}"));
            assert_eq!(ssn.1["cells"][0]["fileName"], "a/people.csv", "{key}");
            let email = d.iter().find(|(t, _)| t == "EMAIL_ADDRESS").unwrap();
            assert_eq!(
                email.1["lineRanges"][0]["fileName"], "logs/app.log",
                "{key}"
            );
            let engine = engine();
            let finding = scan_reader(&engine, key, &bytes[..], None)
                .detections
                .unwrap()
                .judge(&engine, dragnet_detect::FINDING_LOCATION_CAP);
            assert!(
                finding.additional_occurrences,
                "{key}: member locations are left out of findings"
            );
        }
        let nested = zip(
            &[(
                "inner.zip",
                &zip(&[("x.csv", csv)], zip::CompressionMethod::Stored),
            )],
            zip::CompressionMethod::Stored,
        );
        let (_, v) = result_of("outer.zip", &nested);
        assert_eq!(
            detections(&v)[0].1["cells"][0]["fileName"],
            "inner.zip/x.csv"
        );
    }

    #[test]
    fn archive_bombs_stop_at_the_limit() {
        // 64 MiB of zeros compresses to a few kilobytes.
        let zeros = vec![b'0'; 64 << 20];
        let bomb = zip(&[("zeros.txt", &zeros)], zip::CompressionMethod::Deflated);
        assert!(bomb.len() < 1 << 20);
        let limits = ScanLimits {
            archive_bytes: 16 << 20,
            ..ScanLimits::default()
        };
        let (o, _) = result_with("bomb.zip", &bomb, limits);
        assert_eq!(
            (o.status, o.reason.as_deref()),
            ("PARTIAL", Some("ARCHIVE_TOTAL_BYTES_EXTRACTED_OVER_LIMIT"))
        );
        // The same inflating stream inside a tar.gz is stopped while inflating.
        let tgz = gzip(&tar(&[("zeros.txt", &zeros)]));
        let (o, _) = result_with(
            "bomb.tgz",
            &tgz,
            ScanLimits {
                member_bytes: 8 << 20,
                ..ScanLimits::default()
            },
        );
        assert_eq!(
            (o.status, o.reason.as_deref()),
            ("PARTIAL", Some("ARCHIVE_CONTAINS_UNPROCESSED_FILES"))
        );
        // Too many files, and too deep.
        let many = tar(&[("a.txt", b"x"), ("b.txt", b"y"), ("c.txt", b"z")]);
        let (o, _) = result_with(
            "many.tar",
            &many,
            ScanLimits {
                archive_files: 2,
                ..ScanLimits::default()
            },
        );
        assert_eq!(
            o.reason.as_deref(),
            Some("ARCHIVE_TOTAL_DOCUMENTS_PROCESSED_OVER_LIMIT")
        );
        let mut nested = tar(&[("x.txt", b"ssn 536-22-1234")]);
        for i in 0..3 {
            nested = tar(&[(&format!("level{i}.tar"), &nested)]);
        }
        let (o, _) = result_with(
            "deep.tar",
            &nested,
            ScanLimits {
                archive_depth: 2,
                ..ScanLimits::default()
            },
        );
        assert_eq!(
            o.reason.as_deref(),
            Some("ARCHIVE_NESTING_LEVEL_OVER_LIMIT")
        );
    }

    #[test]
    fn a_huge_single_line_streams_in_windows() {
        // 48 MiB on one line with an SSN after its keyword at the very end, read from a
        // generator (nothing holds the whole line).
        struct Line {
            left: usize,
            tail: &'static [u8],
        }
        impl Read for Line {
            fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
                if self.left > 0 {
                    let n = buf.len().min(self.left);
                    buf[..n].fill(b'a');
                    buf[n.saturating_sub(1)] = b' ';
                    self.left -= n;
                    return Ok(n);
                }
                let n = buf.len().min(self.tail.len());
                buf[..n].copy_from_slice(&self.tail[..n]);
                self.tail = &self.tail[n..];
                Ok(n)
            }
        }
        let engine = engine();
        let o = scan_reader(
            &engine,
            "big.log",
            Line {
                left: 48 << 20,
                tail: b" ssn 536-22-1234\n",
            },
            None,
        );
        assert_eq!(o.status, "COMPLETE");
        let j = o
            .detections
            .unwrap()
            .judge(&engine, dragnet_detect::RESULT_LOCATION_CAP);
        let line = &j.sensitive_data[0].detections[0]
            .occurrences
            .line_ranges
            .as_ref()
            .unwrap()[0];
        assert_eq!((line.start, line.start_column), (1, (48 << 20) + 6));
    }

    #[test]
    fn the_time_limit_cuts_off() {
        let (o, _) = result_with(
            "slow.txt",
            &b"ssn 536-22-1234\n".repeat(100),
            ScanLimits {
                time: std::time::Duration::ZERO,
                ..ScanLimits::default()
            },
        );
        assert_eq!(
            (o.status, o.reason.as_deref()),
            ("PARTIAL", Some("TIME_CUT_OFF_REACHED"))
        );
    }

    #[test]
    fn binary_and_invalid_utf8() {
        let (o, _) = result_of("x.dat", b"\x00\x01\x02");
        assert_eq!(o.reason.as_deref(), Some("UNSUPPORTED_FILE_TYPE_EXCEPTION"));
        let (o, v) = result_of("notes.txt", b"\xff\xfe ssn 536-22-1234 \xc3\x28\n");
        assert_eq!(o.status, "COMPLETE");
        assert_eq!(detections(&v)[0].0, "USA_SOCIAL_SECURITY_NUMBER");
    }

    #[cfg(feature = "parquet")]
    fn parquet_file() -> Vec<u8> {
        use parquet::data_type::{ByteArray, ByteArrayType};
        use parquet::file::properties::WriterProperties;
        use parquet::file::writer::SerializedFileWriter;
        let schema = parquet::schema::parser::parse_message_type(
            "message person { required binary ssn (UTF8); required group contact { required binary email (UTF8); } }",
        )
        .unwrap();
        let mut buf = Vec::new();
        let mut writer = SerializedFileWriter::new(
            &mut buf,
            std::sync::Arc::new(schema),
            std::sync::Arc::new(WriterProperties::builder().build()),
        )
        .unwrap();
        let mut rg = writer.next_row_group().unwrap();
        let columns = [
            ["536-22-1234", "536-22-1235"],
            ["jane@example.com", "john@example.com"],
        ];
        let mut i = 0;
        while let Some(mut col) = rg.next_column().unwrap() {
            let values: Vec<ByteArray> = columns[i].iter().map(|v| ByteArray::from(*v)).collect();
            col.typed::<ByteArrayType>()
                .write_batch(&values, None, None)
                .unwrap();
            col.close().unwrap();
            i += 1;
        }
        rg.close().unwrap();
        writer.close().unwrap();
        buf
    }

    #[cfg(feature = "parquet")]
    #[test]
    fn parquet_rows_and_columns() {
        let (o, v) = result_of("people.parquet", &parquet_file());
        assert_eq!(
            (o.status, o.mime_type.as_str()),
            ("COMPLETE", "application/vnd.apache.parquet"),
            "{:?}",
            o.reason
        );
        let d = detections(&v);
        let ssn = d
            .iter()
            .find(|(t, _)| t == "USA_SOCIAL_SECURITY_NUMBER")
            .expect("the ssn column name is the keyword");
        assert_eq!(
            ssn.1["records"],
            serde_json::json!([{"jsonPath": "$.ssn", "recordIndex": 0}, {"jsonPath": "$.ssn", "recordIndex": 1}])
        );
        let email = d.iter().find(|(t, _)| t == "EMAIL_ADDRESS").unwrap();
        assert_eq!(
            email.1["records"][1],
            serde_json::json!({"jsonPath": "$.contact.email", "recordIndex": 1})
        );
    }

    #[cfg(feature = "parquet")]
    #[test]
    fn a_corrupt_parquet_footer_is_unparseable_not_a_crash() {
        let mut bytes = parquet_file();
        let n = bytes.len();
        bytes[n - 8..n - 4].copy_from_slice(&u32::MAX.to_le_bytes());
        let (o, _) = result_of("people.parquet", &bytes);
        assert_eq!(
            (o.status, o.reason.as_deref()),
            ("SKIPPED", Some("UNABLE_TO_PARSE_FILE"))
        );
        let (o, _) = result_of("empty.parquet", b"PAR1");
        assert_eq!(o.status, "SKIPPED");
    }

    #[cfg(feature = "avro")]
    fn avro_file(records: usize) -> Vec<u8> {
        use apache_avro::types::{Record, Value};
        let schema = apache_avro::Schema::parse_str(
            r#"{"type":"record","name":"person","fields":[{"name":"ssn","type":"string"},{"name":"contact","type":{"type":"record","name":"contact","fields":[{"name":"email","type":"string"}]}},{"name":"visits","type":{"type":"array","items":"long"}}]}"#,
        )
        .unwrap();
        let mut w = apache_avro::Writer::new(&schema, Vec::new());
        for i in 0..records {
            let mut r = Record::new(w.schema()).unwrap();
            r.put("ssn", format!("536-22-{:04}", 1000 + i));
            r.put(
                "contact",
                Value::Record(vec![(
                    "email".into(),
                    Value::String(format!("u{i}@example.com")),
                )]),
            );
            r.put("visits", Value::Array(vec![Value::Long(3)]));
            w.append(r).unwrap();
            w.flush().unwrap();
        }
        w.into_inner().unwrap()
    }

    #[cfg(feature = "avro")]
    #[test]
    fn avro_records_stream() {
        let (o, v) = result_of("people.avro", &avro_file(3));
        assert_eq!(
            (o.status, o.mime_type.as_str()),
            ("COMPLETE", "application/avro")
        );
        let d = detections(&v);
        let ssn = d
            .iter()
            .find(|(t, _)| t == "USA_SOCIAL_SECURITY_NUMBER")
            .unwrap();
        assert_eq!(
            ssn.1["records"][2],
            serde_json::json!({"jsonPath": "$.ssn", "recordIndex": 2})
        );
        let email = d.iter().find(|(t, _)| t == "EMAIL_ADDRESS").unwrap();
        assert_eq!(email.1["records"][0]["jsonPath"], "$.contact.email");
        // Cut in the middle of the last block: earlier records stand, PARTIAL.
        let full = avro_file(50);
        let (o, v) = result_of("people.avro", &full[..full.len() - 20]);
        assert_eq!(
            (o.status, o.reason.as_deref()),
            ("PARTIAL", Some("UNABLE_TO_PARSE_FILE"))
        );
        assert!(!detections(&v).is_empty());
        let (o, _) = result_of("bad.avro", b"Obj\x01garbage");
        assert_eq!(o.status, "SKIPPED");
    }

    #[test]
    fn the_etag_covers_the_whole_object_even_when_readers_stop_early() {
        use md5::Digest;
        let md5 = |b: &[u8]| dragnet_model::ids::hex(&md5::Md5::digest(b));
        // tar readers stop at the end-of-archive marker, before the trailing padding.
        let mut archive = tar(&[("a.txt", b"ssn 536-22-1234")]);
        archive.extend(std::iter::repeat_n(0u8, 10 * 512));
        let engine = engine();
        let o = scan_reader(&engine, "x.tar", &archive[..], None);
        assert_eq!(o.md5.as_deref(), Some(md5(&archive).as_str()));
        // A scan stopped at a limit still knows the object's ETag.
        let zeros = vec![b'0'; 4 << 20];
        let bomb = zip(&[("z.txt", &zeros)], zip::CompressionMethod::Deflated);
        let o = scan_reader_with(
            &engine,
            "b.zip",
            &bomb[..],
            None,
            ScanLimits {
                archive_bytes: 1 << 20,
                ..ScanLimits::default()
            },
        );
        assert_eq!(o.status, "PARTIAL");
        assert_eq!(o.md5.as_deref(), Some(md5(&bomb).as_str()));
    }

    #[test]
    fn without_a_checksum_the_result_is_the_same_and_reading_stops_with_the_readers() {
        // S3's listing carries the ETag: no hash, and nothing read that no reader wants.
        let engine = engine();
        let no_checksum = ScanLimits {
            checksum: false,
            ..ScanLimits::default()
        };
        let small = b"name,ssn\nJane Doe,536-22-1234\n".to_vec();
        let large: Vec<u8> = (0..40_000u32)
            .flat_map(|i| format!("p{i},536-22-{:04}\n", 1000 + i % 9000).into_bytes())
            .collect();
        assert!(
            large.len() > 512 << 10,
            "several chunks, read on the second thread"
        );
        for body in [&small, &large] {
            let hashed = scan_reader(&engine, "t.csv", &body[..], None);
            let plain = scan_reader_with(&engine, "t.csv", &body[..], None, no_checksum);
            assert!(hashed.md5.is_some());
            assert_eq!(plain.md5, None);
            assert_eq!(
                (plain.status, plain.size_classified),
                (hashed.status, hashed.size_classified)
            );
            let judge = |o: &ObjectOutcome| {
                let judged = o.detections.as_ref().unwrap().judge(&engine, 100);
                format!("{judged:?}")
            };
            assert_eq!(judge(&plain), judge(&hashed));
        }
        // JSON nested too deep stops its reader at the start of a large object.
        let mut deep = format!("{}\"x\"{}", "[".repeat(300), "]".repeat(300)).into_bytes();
        deep.extend(std::iter::repeat_n(b' ', 4 << 20));
        let read = |limits: ScanLimits| {
            let counter = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
            let body = Counting {
                data: &deep,
                read: counter.clone(),
            };
            let o = scan_reader_with(&engine, "deep.json", body, None, limits);
            (o, counter.load(std::sync::atomic::Ordering::SeqCst))
        };
        let (hashed, hashed_read) = read(ScanLimits::default());
        let (plain, plain_read) = read(no_checksum);
        assert_eq!((plain.status, hashed.status), ("SKIPPED", "SKIPPED"));
        assert_eq!(hashed.md5.as_deref(), Some(md5_hex(&deep).as_str()));
        assert!(plain.md5.is_none());
        assert_eq!(hashed_read, deep.len());
        assert!(plain_read < deep.len() / 2, "read {plain_read} bytes");
    }

    /// A body that counts the bytes read from it.
    struct Counting<'a> {
        data: &'a [u8],
        read: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    }

    impl Read for Counting<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let n = self.data.read(buf)?;
            self.read.fetch_add(n, std::sync::atomic::Ordering::SeqCst);
            Ok(n)
        }
    }

    fn md5_hex(b: &[u8]) -> String {
        use md5::Digest;
        dragnet_model::ids::hex(&md5::Md5::digest(b))
    }
}

mod stored_jobs {
    //! Scheduled jobs, incremental runs, the job lifecycle and resumption, with a controlled clock.

    use std::io::Read;

    use super::*;
    use crate::schedule::TimeOfDay;
    use crate::state::{JobRecord, JobStore, StateError};
    use crate::stored::{run_stored, StoredRunError, StoredRunOptions};

    fn daily_spec(initial_run: bool) -> JobSpec {
        JobSpec::from_json(&format!(
            r#"{{"jobType":"SCHEDULED","scheduleFrequency":{{"dailySchedule":{{}}}},"initialRun":{initial_run},"managedDataIdentifierSelector":"ALL","s3JobDefinition":{{"bucketDefinitions":[{{"accountId":"111222333444","buckets":["{BUCKET}"]}}]}}}}"#
        ))
        .unwrap()
    }

    fn options(fingerprint: &str) -> StoredRunOptions {
        options_at(fingerprint, Timestamp::now())
    }

    fn options_at(fingerprint: &str, now: Timestamp) -> StoredRunOptions {
        StoredRunOptions {
            stop: None,
            now,
            region: "us-east-1".into(),
            plan: PlanOptions {
                default_account: "111222333444".into(),
                sampling_seed: 1,
                listing: None,
                shard: None,
            },
            threads: 1,
            fingerprint: fingerprint.into(),
            time_of_day: TimeOfDay { hour: 3, minute: 0 },
            results_location: None,
        }
    }

    fn create(store: &JobStore, spec: JobSpec, created_at: Timestamp) -> String {
        let job_id = adhoc_job_id(&spec);
        let status = if spec.job_type == dragnet_model::jobspec::JobType::OneTime {
            "RUNNING"
        } else {
            "IDLE"
        };
        store
            .create_job(&JobRecord {
                job_id: job_id.clone(),
                spec,
                status: status.into(),
                created_at,
                next_run_at: None,
                paused_at: None,
            })
            .unwrap();
        job_id
    }

    fn scanned(
        store: &JobStore,
        s: &dyn ObjectStore,
        job: &str,
        fp: &str,
        now: &str,
    ) -> (u64, BTreeMap<String, u64>) {
        let out = tempfile::tempdir().unwrap();
        let r = run_stored(
            store,
            job,
            &engine(),
            s,
            out.path(),
            &NoProgress,
            &options_at(fp, Timestamp::parse(now).unwrap()),
        )
        .unwrap();
        (
            r.report.statistics.objects_scanned,
            r.report.statistics.objects_skipped,
        )
    }

    #[test]
    fn a_daily_job_scans_only_what_changed() {
        let (d, s) = store();
        let state = JobStore::open(&d.path().join("state.db")).unwrap();
        for i in 0..3 {
            put(&s, &format!("f{i}.csv"), "SSN\n536-22-1234\n");
        }
        let job = create(&state, daily_spec(true), Timestamp::now());
        assert_eq!(
            scanned(&state, &s, &job, "fp1", "2026-11-23T03:00:00Z").0,
            3,
            "initialRun: all existing objects"
        );
        let after = state.job(&job).unwrap();
        assert_eq!(after.status, "IDLE");
        assert_eq!(
            after.next_run_at.unwrap().to_string(),
            "2026-11-24T03:00:00.000Z"
        );
        let (n, skipped) = scanned(&state, &s, &job, "fp1", "2026-11-24T03:00:00Z");
        assert_eq!(n, 0, "nothing changed");
        assert_eq!(skipped["NOT_CHANGED_SINCE_LAST_ANALYZED"], 3);
        put(&s, "f1.csv", "SSN\n536-22-1234\n536-22-1235\n");
        put(&s, "new.csv", "SSN\n536-22-1234\n");
        assert_eq!(
            scanned(&state, &s, &job, "fp1", "2026-11-25T03:00:00Z").0,
            2,
            "one modified, one added"
        );
        assert_eq!(
            scanned(&state, &s, &job, "fp2", "2026-11-26T03:00:00Z").0,
            4,
            "new identifiers: everything is eligible again"
        );
        assert_eq!(state.runs(&job).unwrap().len(), 4);
        let events: Vec<String> = state
            .events(&job)
            .unwrap()
            .iter()
            .map(|e| e["eventType"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(
            &events[..3],
            &["JOB_CREATED", "RUN_STARTED", "RUN_COMPLETED"]
        );
    }

    #[test]
    fn without_initial_run_the_first_run_skips_older_objects() {
        let (d, s) = store();
        let state = JobStore::open(&d.path().join("state.db")).unwrap();
        put(&s, "old.csv", "SSN\n536-22-1234\n");
        std::thread::sleep(std::time::Duration::from_millis(20));
        let job = create(&state, daily_spec(false), Timestamp::now());
        std::thread::sleep(std::time::Duration::from_millis(20));
        put(&s, "new.csv", "SSN\n536-22-1234\n");
        let (n, skipped) = scanned(&state, &s, &job, "fp", "2026-11-23T03:00:00Z");
        assert_eq!(n, 1);
        assert_eq!(skipped["EXISTED_BEFORE_JOB_CREATION"], 1);
    }

    #[test]
    fn lifecycle_rules() {
        let (d, s) = store();
        let state = JobStore::open(&d.path().join("state.db")).unwrap();
        put(&s, "a.csv", "SSN\n536-22-1234\n");
        let job = create(&state, daily_spec(true), Timestamp::now());
        let now = Timestamp::now();
        assert!(
            matches!(
                state.update_status(&job, "RUNNING", now),
                Err(StateError::Conflict { .. })
            ),
            "resume needs a pause"
        );
        assert_eq!(
            state
                .update_status(&job, "USER_PAUSED", now)
                .unwrap()
                .status,
            "USER_PAUSED"
        );
        let out = tempfile::tempdir().unwrap();
        assert!(matches!(
            run_stored(
                &state,
                &job,
                &engine(),
                &s,
                out.path(),
                &NoProgress,
                &options_at("f", now)
            ),
            Err(StoredRunError::NotRunnable { .. })
        ));
        assert_eq!(
            state.update_status(&job, "RUNNING", now).unwrap().status,
            "IDLE",
            "a resumed recurring job waits for its next run"
        );
        assert_eq!(
            state.update_status(&job, "CANCELLED", now).unwrap().status,
            "CANCELLED"
        );
        let e = run_stored(
            &state,
            &job,
            &engine(),
            &s,
            out.path(),
            &NoProgress,
            &options_at("f", now),
        )
        .unwrap_err();
        assert!(
            e.to_string().contains("a cancelled job never runs again"),
            "{e}"
        );
        let e = state.update_status(&job, "RUNNING", now).unwrap_err();
        assert_eq!(e.to_string(), format!("ConflictException: job {job} is CANCELLED; it cannot become RUNNING (allowed: from USER_PAUSED)"));
        // A one-time job runs once.
        let once = create(&state, spec(r#""clientToken":"once","#), Timestamp::now());
        run_stored(
            &state,
            &once,
            &engine(),
            &s,
            out.path(),
            &NoProgress,
            &options_at("f", now),
        )
        .unwrap();
        assert_eq!(state.job(&once).unwrap().status, "COMPLETE");
        assert!(run_stored(
            &state,
            &once,
            &engine(),
            &s,
            out.path(),
            &NoProgress,
            &options_at("f", now)
        )
        .is_err());
        assert!(matches!(
            state.update_status(&once, "CANCELLED", now),
            Err(StateError::Conflict { .. })
        ));
    }

    #[test]
    fn a_crash_mid_run_is_resumed_and_every_object_reported_once() {
        let (d, s) = store();
        let state = JobStore::open(&d.path().join("state.db")).unwrap();
        for i in 0..6 {
            put(
                &s,
                &format!("f{i}.csv"),
                &format!("SSN\n536-22-{:04}\n", 1000 + i),
            );
        }
        let faulty = dragnet_store::faulty::FaultyStore::new(s);
        faulty
            .faults
            .get_crashes
            .lock()
            .unwrap()
            .insert("f3.csv".into());
        let job = create(&state, spec(r#""clientToken":"crash","#), Timestamp::now());
        let out = tempfile::tempdir().unwrap();
        let now = Timestamp::now();
        let crashed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            run_stored(
                &state,
                &job,
                &engine(),
                &faulty,
                out.path(),
                &NoProgress,
                &options_at("f", now),
            )
        }));
        assert!(crashed.is_err(), "the injected crash stops the run");
        let unfinished = state
            .unfinished_run(&job)
            .unwrap()
            .expect("the run is kept");
        faulty.faults.get_crashes.lock().unwrap().clear();
        let r = run_stored(
            &state,
            &job,
            &engine(),
            &faulty,
            out.path(),
            &NoProgress,
            &options_at("f", now),
        )
        .unwrap();
        assert_eq!(r.run_id, unfinished.run_id, "the same run, resumed");
        assert_eq!(state.runs(&job).unwrap()[0].attempts, 2);
        assert_eq!(r.report.statistics.objects_scanned, 6);
        assert_eq!(r.report.findings.len(), 6);
        let mut text = String::new();
        flate2::read::GzDecoder::new(std::fs::File::open(&r.report.result_files[0]).unwrap())
            .read_to_string(&mut text)
            .unwrap();
        let mut keys: Vec<String> = text
            .lines()
            .map(|l| {
                serde_json::from_str::<serde_json::Value>(l).unwrap()["resourcesAffected"]
                    ["s3Object"]["key"]
                    .as_str()
                    .unwrap()
                    .to_string()
            })
            .collect();
        keys.sort();
        assert_eq!(
            keys,
            (0..6).map(|i| format!("f{i}.csv")).collect::<Vec<_>>(),
            "every object exactly once"
        );
        assert_eq!(
            std::fs::read_to_string(out.path().join("findings.jsonl"))
                .unwrap()
                .lines()
                .count(),
            6
        );
    }

    #[test]
    fn a_stop_request_leaves_a_resumable_run() {
        let (d, s) = store();
        let state = JobStore::open(&d.path().join("state.db")).unwrap();
        put(&s, "a.csv", "SSN\n536-22-1234\n");
        let job = create(&state, spec(r#""clientToken":"stop","#), Timestamp::now());
        let out = tempfile::tempdir().unwrap();
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
        let options = StoredRunOptions {
            stop: Some(stop.clone()),
            ..options("f")
        };
        let e = run_stored(
            &state,
            &job,
            &engine(),
            &s,
            out.path(),
            &NoProgress,
            &options,
        )
        .unwrap_err();
        assert!(e.to_string().contains("stopped before it finished"), "{e}");
        assert!(state.unfinished_run(&job).unwrap().is_some());
        // Pausing and resuming keeps the unfinished run (its checkpoint).
        let now = Timestamp::now();
        state.update_status(&job, "USER_PAUSED", now).unwrap();
        assert_eq!(
            state.update_status(&job, "RUNNING", now).unwrap().status,
            "RUNNING"
        );
        let kept = state.unfinished_run(&job).unwrap().unwrap();
        stop.store(false, std::sync::atomic::Ordering::SeqCst);
        let r = run_stored(
            &state,
            &job,
            &engine(),
            &s,
            out.path(),
            &NoProgress,
            &options,
        )
        .unwrap();
        assert_eq!(r.run_id, kept.run_id);
        assert_eq!(r.report.findings.len(), 1);
        assert_eq!(state.job(&job).unwrap().status, "COMPLETE");
        let log = std::fs::read_to_string(state.log_path(&job)).unwrap();
        assert!(log.lines().any(|l| l.contains("\"RUN_RESUMED\"")), "{log}");
    }

    #[test]
    fn client_tokens_make_creation_idempotent() {
        let d = tempfile::tempdir().unwrap();
        let state = JobStore::open(&d.path().join("state.db")).unwrap();
        let spec = spec(r#""clientToken":"same","#);
        let a = state
            .create_job(&JobRecord {
                job_id: "a".repeat(32),
                spec: spec.clone(),
                status: "RUNNING".into(),
                created_at: Timestamp::now(),
                next_run_at: None,
                paused_at: None,
            })
            .unwrap();
        let b = state
            .create_job(&JobRecord {
                job_id: "b".repeat(32),
                spec,
                status: "RUNNING".into(),
                created_at: Timestamp::now(),
                next_run_at: None,
                paused_at: None,
            })
            .unwrap();
        assert_eq!(a.job_id, b.job_id);
        assert_eq!(state.jobs().unwrap().len(), 1);
    }
}

#[test]
fn reveal_keeps_up_to_the_limit_of_distinct_values_per_identifier() {
    let engine = engine();
    let mut csv = String::from("name,ssn,patient\n");
    for i in 0..14 {
        // SSN 536-22-1234 appears twice; each patient id once.
        csv.push_str(&format!("x,536-22-{:04},P-{:04}\n", 1234 + (i % 13), i));
    }
    let (outcome, values) = crate::reveal_values(&engine, "people.csv", csv.as_bytes(), None, 10);
    assert_eq!(outcome.status, "COMPLETE");
    let index = |id: &str| {
        (0..engine.len())
            .find(|&i| engine.info(i).id == id)
            .unwrap()
    };
    let ssn = &values[index("USA_SOCIAL_SECURITY_NUMBER")];
    assert_eq!(ssn.len(), 10);
    assert_eq!(ssn[0], "536-22-1234");
    let unique: std::collections::BTreeSet<_> = ssn.iter().collect();
    assert_eq!(unique.len(), 10, "values are distinct");
    assert_eq!(values[index("pid")][..2], ["P-0000", "P-0001"]);
    assert!(values[index("CREDIT_CARD_NUMBER")].is_empty());
    // An ordinary scan of the same bytes reports the same detections.
    let plain = scan_reader(&engine, "people.csv", csv.as_bytes(), None);
    assert_eq!(
        plain.detections.unwrap().total(),
        outcome.detections.unwrap().total()
    );
}

#[test]
fn cells_scanned_on_several_threads_give_the_one_thread_result() {
    // About 3 MB: a dozen batches, with detections spread over every batch and past the
    // location cap, plus a long cell that is scanned in windows.
    let mut csv = String::from("name,ssn,patient,email,notes\n");
    for i in 0..40_000u32 {
        let notes = if i % 9_999 == 0 {
            "x".repeat(300_000) + " 536-22-1234"
        } else {
            format!("visit {i}")
        };
        csv.push_str(&format!(
            "p{i},536-22-{:04},P-{:04},p{i}@example.org,{notes}\n",
            1000 + i % 9000,
            i % 10_000
        ));
    }
    assert_eq!(
        same_result_on_one_and_more_threads("big.csv", &csv).0,
        "COMPLETE"
    );
}

#[test]
fn lines_scanned_on_several_threads_give_the_one_thread_result() {
    // About 3 MB of log lines: detections in every batch and past the location cap, accented
    // text before matches (columns count characters), and long lines scanned in windows.
    let mut log = String::new();
    for i in 0..40_000u32 {
        if i % 9_999 == 0 {
            log.push_str(&"é".repeat(150_000));
            log.push_str(" ssn 536-22-1234\n");
        } else {
            log.push_str(&format!(
                "{i} café user=p{i}@example.org ssn: 536-22-{:04} from 10.0.{}.{}\n",
                1000 + i % 9000,
                i % 250,
                i % 200 + 1
            ));
        }
    }
    assert_eq!(
        same_result_on_one_and_more_threads("app.log", &log).0,
        "COMPLETE"
    );
}

/// About 3 MB of JSON Lines: detections in every piece and past the location cap, a key
/// found sensitive in the first piece that hides the paths through it in a later one (with a
/// visible path beside it), malformed lines, long strings read in windows, and `extra` lines
/// inserted at line `at`.
fn json_lines_with(at: u32, extra: &str) -> String {
    let mut jsonl = String::from("{\"jane@example.com\": {\"plan\": \"gold\"}}\n");
    for i in 0..30_000u32 {
        if i == at {
            jsonl.push_str(extra);
        }
        let line = match i {
            20_000 => r#"{"jane@example.com": {"card": "4539 1488 0343 6467"}, "acct": {"card": "5500 0000 0000 0004"}}"#.to_string(),
            _ if i % 9_999 == 0 => format!("{{\"note\": \"{} 536-22-1234\"}}", "x".repeat(300_000)),
            _ if i % 5_000 == 0 => r#"{"broken" 1}"#.to_string(),
            _ => format!(
                r#"{{"id": {i}, "user": {{"email": "p{i}@example.org", "ssn": "536-22-{:04}"}}, "ip": "10.0.{}.{}", "tags": ["a", "café"]}}"#,
                1000 + i % 9000,
                i % 250,
                i % 200 + 1
            ),
        };
        jsonl.push_str(&line);
        jsonl.push('\n');
    }
    jsonl
}

#[test]
fn json_lines_scanned_on_several_threads_give_the_one_thread_result() {
    let body = json_lines_with(u32::MAX, "");
    assert_eq!(
        same_result_on_one_and_more_threads("events.jsonl", &body),
        ("PARTIAL", Some("MALFORMED_FILE".to_string()))
    );
    // The occurrences through the sensitive key have no path; the one beside them has.
    let engine = engine();
    let o = crate::scan::scan_reader_with(
        &engine,
        "events.jsonl",
        body.as_bytes(),
        None,
        crate::scan::ScanLimits {
            unit_threads: 2,
            ..crate::scan::ScanLimits::default()
        },
    );
    let judged = o
        .detections
        .unwrap()
        .judge(&engine, dragnet_detect::RESULT_LOCATION_CAP);
    let cards = serde_json::to_value(&judged.sensitive_data).unwrap();
    let cards = cards.to_string();
    assert!(
        cards.contains(r#"{"jsonPath":null,"recordIndex":20001}"#),
        "{cards}"
    );
    assert!(
        cards.contains(r#"{"jsonPath":"$.acct.card","recordIndex":20001}"#),
        "{cards}"
    );
}

#[test]
fn json_lines_with_records_over_several_lines_give_the_one_thread_result() {
    // From the first record that goes past its line, the rest is read on one thread. This
    // one is longer than a piece can be, so it is cut wherever the pieces fall.
    let mut pretty = String::from("{\n");
    for j in 0..700 {
        pretty.push_str(&format!("  \"k{j}\": \"{}\",\n", "z".repeat(1000)));
    }
    pretty.push_str("  \"late\": {\n    \"ssn\": \"536-22-9999\"\n  }\n}\n");
    assert!(pretty.len() > 2 * crate::parallel_records::PIECE_BYTES);
    same_result_on_one_and_more_threads("pretty.jsonl", &json_lines_with(15_000, &pretty));
    // So it is after a line too long to be a piece.
    let long = format!(
        "{{\"blob\": \"{} 536-22-8888\"}}\n",
        "y".repeat(crate::parallel_records::MAX_PIECE_BYTES)
    );
    same_result_on_one_and_more_threads("long.jsonl", &json_lines_with(15_000, &long));
}

#[test]
fn json_lines_nested_too_deep_are_skipped_on_several_threads_too() {
    let deep = format!("{}\"x\"{}\n", "[".repeat(300), "]".repeat(300));
    let body = json_lines_with(12_000, &deep);
    for threads in [1, 2] {
        let limits = crate::scan::ScanLimits {
            unit_threads: threads,
            ..crate::scan::ScanLimits::default()
        };
        let o =
            crate::scan::scan_reader_with(&engine(), "deep.jsonl", body.as_bytes(), None, limits);
        assert_eq!(
            (o.status, o.reason.as_deref()),
            ("SKIPPED", Some("JSON_NESTING_LEVEL_OVER_LIMIT")),
            "{threads} threads"
        );
    }
}

/// Scans `body` as object `key` with one, two and three threads for its units and checks that
/// status, reason, checksum, size and judged detections (counts and kept locations) are the
/// same; returns the status and reason.
fn same_result_on_one_and_more_threads(key: &str, body: &str) -> (&'static str, Option<String>) {
    use crate::scan::{scan_reader_with, ScanLimits};
    let engine = engine();
    let run = |threads: usize| {
        let limits = ScanLimits {
            unit_threads: threads,
            ..ScanLimits::default()
        };
        let o = scan_reader_with(&engine, key, body.as_bytes(), None, limits);
        let judged = o
            .detections
            .as_ref()
            .unwrap()
            .judge(&engine, dragnet_detect::RESULT_LOCATION_CAP);
        (
            (o.status, o.reason.clone()),
            o.md5.clone(),
            o.size_classified,
            format!("{judged:?}"),
        )
    };
    let one = run(1);
    assert_ne!(one.0 .0, "SKIPPED");
    assert!(
        one.3.contains("USA_SOCIAL_SECURITY_NUMBER"),
        "{}",
        &one.3[..200]
    );
    for threads in [2, 3] {
        assert_eq!(run(threads), one, "{key}: {threads} threads");
    }
    one.0
}
