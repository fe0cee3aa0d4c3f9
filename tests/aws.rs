//! AWS mode against a local AWS emulator (moto server, started by the harness): the scan and
//! react paths over S3 through the AWS SDK for Rust.

mod common;

use std::collections::BTreeMap;

use common::*;
use dragnet_store::s3::{S3Options, S3Store};
use dragnet_store::{ObjectAttributes, ObjectStore};

const SOURCE: &str = "synthea-data-111222333444-us-east-1";
const ISOLATION: &str = "macie-isolation-111222333444-us-east-1";

fn client(moto: &Moto) -> S3Store {
    for (k, v) in AWS_TEST_ENV {
        // The values are the same for every test, so tests running in parallel agree.
        std::env::set_var(k, v);
    }
    S3Store::connect(&S3Options {
        region: Some("us-east-1".into()),
        endpoint_url: Some(moto.endpoint.clone()),
        force_path_style: true,
        ..S3Options::default()
    })
    .unwrap()
}

fn keys(s3: &S3Store, bucket: &str) -> Vec<String> {
    let mut keys = Vec::new();
    s3.list(bucket, "", &mut |m| keys.push(m.key)).unwrap();
    keys
}

/// `dragnet.toml` for the S3 store on the emulator, followed by `rest` (other sections).
fn store_config(moto: &Moto, rest: &str) -> String {
    format!(
        "[store]\nkind = \"s3\"\nendpoint_url = \"{}\"\nforce_path_style = true\n{rest}",
        moto.endpoint
    )
}

/// A one-time job spec over `bucket` with every managed identifier.
fn spec_over(bucket: &str) -> String {
    format!(
        r#"{{"jobType":"ONE_TIME","managedDataIdentifierSelector":"ALL","s3JobDefinition":{{"bucketDefinitions":[{{"accountId":"111222333444","buckets":["{bucket}"]}}]}}}}"#
    )
}

/// A config for the S3 store on the emulator with the walkthrough's custom identifiers, in
/// `account`, followed by `rest` (the sections a test adds).
fn s3_config(moto: &Moto, account: &str, rest: &str) -> String {
    format!(
        "region = \"us-east-1\"\naccount_id = \"{}\"\nidentifiers = [\"{}\"]\n{}",
        account,
        repo().join("sample-data/custom-identifiers.json").display(),
        store_config(moto, rest)
    )
}

/// Copies these files of the committed sample into the source bucket.
fn upload_sample(s3: &S3Store, names: &[&str], attrs: &ObjectAttributes) {
    let sample = repo().join("sample-data/buckets").join(SOURCE);
    for name in names {
        s3.put(
            SOURCE,
            name,
            &mut std::fs::File::open(sample.join(name)).unwrap(),
            attrs,
        )
        .unwrap();
    }
}

#[test]
fn the_walkthrough_over_s3_scans_quarantines_and_restores() {
    let moto = moto();
    let s3 = client(&moto);
    s3.create_bucket(SOURCE).unwrap();
    s3.create_bucket(ISOLATION).unwrap();
    let sample = repo().join("sample-data/buckets").join(SOURCE);
    let attrs = ObjectAttributes {
        content_type: Some("text/csv".into()),
        metadata: BTreeMap::from([("source".into(), "synthea".into())]),
        tags: BTreeMap::from([("Project".into(), "Synthea".into())]),
    };
    upload_sample(
        &s3,
        &[
            "patients.csv",
            "organizations.csv",
            "allergies.csv",
            "payers.csv",
            "supplies.csv",
        ],
        &attrs,
    );
    let work = tempfile::tempdir().unwrap();
    let dir = work.path();
    std::fs::copy(
        repo().join("sample-data/rules.json"),
        dir.join("rules.json"),
    )
    .unwrap();
    std::fs::write(
        dir.join("dragnet.toml"),
        s3_config(
            &moto,
            "111222333444",
            &format!("[events]\nrules = \"rules.json\"\n[alerts]\ntopics = {{ \"high-severity-sms\" = \"sms\" }}\n[quarantine]\nbucket = \"{ISOLATION}\"\n"),
        ),
    )
    .unwrap();
    let spec = repo().join("sample-data/jobs/one-time.json");
    let o = dragnet_aws(
        dir,
        &["scan", "--job", spec.to_str().unwrap(), "--out", "out"],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let summary = stdout_json(&o);
    assert_eq!(summary["runStatistics"]["objectsListed"], 5);
    assert_eq!(summary["findings"], 4, "supplies.csv holds only its header");

    // High findings moved through the real S3 API, with metadata and tags kept; Medium tagged.
    let findings = jsonl(&dir.join("out/findings.jsonl"));
    let high: Vec<&str> = findings
        .iter()
        .filter(|f| f["severity"]["description"] == "High")
        .map(|f| f["resourcesAffected"]["s3Object"]["key"].as_str().unwrap())
        .collect();
    assert_eq!(high, vec!["organizations.csv", "patients.csv"]);
    let remaining = keys(&s3, SOURCE);
    assert_eq!(
        remaining,
        vec!["allergies.csv", "payers.csv", "supplies.csv"]
    );
    let isolated = keys(&s3, ISOLATION);
    assert!(
        isolated.contains(&"patients.csv".to_string())
            && isolated.contains(&"organizations.csv".to_string()),
        "{isolated:?}"
    );
    let copy = s3.attributes(ISOLATION, "patients.csv").unwrap();
    assert_eq!(
        (&copy.content_type, &copy.metadata),
        (&attrs.content_type, &attrs.metadata)
    );
    assert_eq!(copy.tags["Project"], "Synthea");
    assert_eq!(copy.tags["dragnet-quarantine-severity"], "High");
    assert_eq!(
        s3.attributes(SOURCE, "allergies.csv").unwrap().tags["dragnet-sensitivity"],
        "medium"
    );
    let patients = findings
        .iter()
        .find(|f| f["resourcesAffected"]["s3Object"]["key"] == "patients.csv")
        .unwrap();
    assert_eq!(
        patients["resourcesAffected"]["s3Object"]["eTag"]
            .as_str()
            .unwrap()
            .len(),
        32,
        "the S3 ETag"
    );

    // Restore puts the object back, byte for byte, with its attributes.
    let id = patients["id"].as_str().unwrap();
    let o = dragnet_aws(dir, &["quarantine", "--restore", id]);
    assert!(o.status.success(), "{}", stderr(&o));
    let mut body = Vec::new();
    std::io::Read::read_to_end(&mut s3.get(SOURCE, "patients.csv").unwrap(), &mut body).unwrap();
    assert_eq!(body, std::fs::read(sample.join("patients.csv")).unwrap());
    assert_eq!(s3.attributes(SOURCE, "patients.csv").unwrap(), attrs);
    assert!(!keys(&s3, ISOLATION).contains(&"patients.csv".to_string()));
}

#[test]
fn s3_errors_are_per_object_and_per_bucket() {
    let moto = moto();
    let s3 = client(&moto);
    s3.create_bucket("data-bucket").unwrap();
    s3.put(
        "data-bucket",
        "a.csv",
        &mut &b"SSN\n536-22-1234\n"[..],
        &ObjectAttributes::default(),
    )
    .unwrap();
    assert!(matches!(
        s3.get("data-bucket", "nope.csv"),
        Err(dragnet_store::StoreError::NoSuchKey { .. })
    ));
    assert!(matches!(
        s3.head("no-such-bucket-x", "a"),
        Err(dragnet_store::StoreError::NoSuchKey { .. }
            | dragnet_store::StoreError::NoSuchBucket { .. })
    ));
    let work = tempfile::tempdir().unwrap();
    std::fs::write(work.path().join("dragnet.toml"), store_config(&moto, "")).unwrap();
    std::fs::write(
        work.path().join("job.json"),
        r#"{"jobType":"ONE_TIME","managedDataIdentifierSelector":"ALL","s3JobDefinition":{"bucketDefinitions":[{"accountId":"111222333444","buckets":["data-bucket","missing-bucket-y"]}]}}"#,
    )
    .unwrap();
    let o = dragnet_aws(
        work.path(),
        &["scan", "--job", "job.json", "--out", "out", "--no-events"],
    );
    expect_failure(&o, 1, "missing-bucket-y");
    let findings = jsonl(&work.path().join("out/findings.jsonl"));
    assert_eq!(findings.len(), 1, "the other bucket was scanned");

    // Quarantine into an isolation bucket that does not exist: the error says so and the
    // original is untouched.
    let nowhere = dragnet_quarantine::Isolation {
        bucket: "no-such-isolation-bucket".into(),
        prefix: String::new(),
        purge_noncurrent_versions: false,
    };
    let error =
        dragnet_quarantine::quarantine_event(&s3, &findings[0], &nowhere, "test").unwrap_err();
    assert!(
        error.to_string().contains("no-such-isolation-bucket"),
        "{error}"
    );
    assert_eq!(keys(&s3, "data-bucket"), vec!["a.csv"]);
}

#[test]
fn ssm_bucket_names_resolve_from_parameter_store() {
    let moto = moto();
    let s3 = client(&moto);
    s3.create_bucket("patient-data-bucket").unwrap();
    s3.put(
        "patient-data-bucket",
        "p.csv",
        &mut &b"SSN\n536-22-1234\n"[..],
        &ObjectAttributes::default(),
    )
    .unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let shared = emulator_config(&moto).await;
        aws_sdk_ssm::Client::new(&shared)
            .put_parameter()
            .name("/macie_demo/patient_data_bucket")
            .value("patient-data-bucket")
            .r#type(aws_sdk_ssm::types::ParameterType::String)
            .send()
            .await
            .unwrap();
    });
    let work = tempfile::tempdir().unwrap();
    let dir = work.path();
    std::fs::write(dir.join("dragnet.toml"), store_config(&moto, "")).unwrap();
    let spec = |param: &str| spec_over(&format!("ssm:{param}"));
    std::fs::write(
        dir.join("job.json"),
        spec("/macie_demo/patient_data_bucket"),
    )
    .unwrap();
    let run = |args: &[&str]| {
        dragnet_aws_env(
            dir,
            args,
            &[("AWS_ENDPOINT_URL_SSM", moto.endpoint.as_str())],
        )
    };
    let o = run(&["scan", "--job", "job.json", "--out", "out", "--no-events"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stdout_json(&o)["findings"], 1);
    let job: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("out/job.json")).unwrap()).unwrap();
    assert_eq!(
        job["s3JobDefinition"]["bucketDefinitions"][0]["buckets"][0],
        "patient-data-bucket"
    );
    std::fs::write(dir.join("job.json"), spec("/macie_demo/nope")).unwrap();
    let o = run(&["scan", "--job", "job.json", "--out", "out2", "--no-events"]);
    expect_failure(&o, 2, "SSM parameter \"/macie_demo/nope\" does not exist");
}

/// A new SQS queue: its URL and ARN.
async fn queue(sqs: &aws_sdk_sqs::Client, name: &str) -> (String, String) {
    let url = sqs
        .create_queue()
        .queue_name(name)
        .send()
        .await
        .unwrap()
        .queue_url()
        .unwrap()
        .to_string();
    let arn = sqs
        .get_queue_attributes()
        .queue_url(&url)
        .attribute_names(aws_sdk_sqs::types::QueueAttributeName::QueueArn)
        .send()
        .await
        .unwrap()
        .attributes()
        .unwrap()[&aws_sdk_sqs::types::QueueAttributeName::QueueArn]
        .clone();
    (url, arn)
}

/// An SQS queue subscribed, through an EventBridge rule with `pattern`, to the default bus.
async fn subscribe(
    events: &aws_sdk_eventbridge::Client,
    sqs: &aws_sdk_sqs::Client,
    name: &str,
    pattern: &str,
) -> String {
    let (url, arn) = queue(sqs, name).await;
    events
        .put_rule()
        .name(name)
        .event_pattern(pattern)
        .send()
        .await
        .unwrap();
    events
        .put_targets()
        .rule(name)
        .targets(
            aws_sdk_eventbridge::types::Target::builder()
                .id("queue")
                .arn(arn)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    url
}

/// Every message body on the queue, as JSON.
async fn drain(sqs: &aws_sdk_sqs::Client, url: &str) -> Vec<serde_json::Value> {
    let mut bodies = Vec::new();
    loop {
        let out = sqs
            .receive_message()
            .queue_url(url)
            .max_number_of_messages(10)
            .send()
            .await
            .unwrap();
        let messages = out.messages();
        if messages.is_empty() {
            return bodies;
        }
        for m in messages {
            bodies.push(serde_json::from_str(m.body().unwrap()).unwrap());
            sqs.delete_message()
                .queue_url(url)
                .receipt_handle(m.receipt_handle().unwrap())
                .send()
                .await
                .unwrap();
        }
    }
}

#[test]
fn findings_reach_eventbridge_rules_written_for_macie_findings() {
    let moto = moto();
    let s3 = client(&moto);
    s3.create_bucket(SOURCE).unwrap();
    upload_sample(
        &s3,
        &["patients.csv", "allergies.csv", "supplies.csv"],
        &ObjectAttributes::default(),
    );
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let (sqs, high_queue, all_queue) = runtime.block_on(async {
        let shared = emulator_config(&moto).await;
        let events = aws_sdk_eventbridge::Client::new(&shared);
        let sqs = aws_sdk_sqs::Client::new(&shared);
        let high = subscribe(
            &events,
            &sqs,
            "high-findings",
            r#"{"source":["dragnet"],"detail-type":["Macie Finding"],"detail":{"severity":{"description":["High"]}}}"#,
        )
        .await;
        let all = subscribe(
            &events,
            &sqs,
            "all-findings",
            r#"{"detail-type":["Macie Finding"]}"#,
        )
        .await;
        (sqs, high, all)
    });

    let work = tempfile::tempdir().unwrap();
    let dir = work.path();
    let config = |events_endpoint: &str| {
        s3_config(
            &moto,
            "111222333444",
            &format!("[events]\nkind = \"eventbridge\"\nendpoint_url = \"{events_endpoint}\"\n"),
        )
    };
    std::fs::write(dir.join("dragnet.toml"), config(&moto.endpoint)).unwrap();
    let spec = repo().join("sample-data/jobs/one-time.json");
    let o = dragnet_aws(
        dir,
        &["scan", "--job", spec.to_str().unwrap(), "--out", "out"],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stdout_json(&o)["findings"], 2);

    let (high, all) = runtime.block_on(async {
        (
            drain(&sqs, &high_queue).await,
            drain(&sqs, &all_queue).await,
        )
    });
    let key = |e: &serde_json::Value| {
        e["detail"]["resourcesAffected"]["s3Object"]["key"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert_eq!(high.len(), 1, "{high:?}");
    assert_eq!(high[0]["detail-type"], "Macie Finding");
    assert_eq!(high[0]["source"], "dragnet");
    assert_eq!(key(&high[0]), "patients.csv");
    let findings = jsonl(&dir.join("out/findings.jsonl"));
    let patients = findings
        .iter()
        .find(|f| f["resourcesAffected"]["s3Object"]["key"] == "patients.csv")
        .unwrap();
    assert_eq!(
        &high[0]["detail"], patients,
        "the finding travels unchanged"
    );
    let mut all_keys: Vec<String> = all.iter().map(key).collect();
    all_keys.sort();
    assert_eq!(all_keys, vec!["allergies.csv", "patients.csv"]);

    // EventBridge unreachable: the scan's results stand, every event is dead-lettered with
    // the error, and the exit code says so.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let closed_url = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    std::fs::write(dir.join("dragnet.toml"), config(&closed_url)).unwrap();
    let o = dragnet_aws(
        dir,
        &["scan", "--job", spec.to_str().unwrap(), "--out", "out2"],
    );
    expect_failure(&o, 1, "2 target deliveries failed");
    let dead = jsonl(&dir.join("dead-letter.jsonl"));
    assert_eq!(dead.len(), 2);
    assert!(dead.iter().all(|d| d["rule"] == "PutEvents"
        && d["event"]["detail-type"] == "Macie Finding"
        && !d["error"].as_str().unwrap().is_empty()));
    assert_eq!(jsonl(&dir.join("out2/findings.jsonl")).len(), 2);
}

/// The shared AWS config of the SDK clients a test drives the emulator with.
async fn emulator_config(moto: &Moto) -> aws_config::SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new("us-east-1"))
        .endpoint_url(&moto.endpoint)
        .load()
        .await
}

#[test]
fn alerts_reach_sns_subscribers_with_texts_per_protocol_and_attributes() {
    let moto = moto();
    let s3 = client(&moto);
    s3.create_bucket(SOURCE).unwrap();
    s3.create_bucket(ISOLATION).unwrap();
    upload_sample(
        &s3,
        &["patients.csv", "allergies.csv"],
        &ObjectAttributes::default(),
    );
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    // The sample rules alert `dragnet:alert:high-severity-sms` and `dragnet:alert:findings-email`;
    // in SNS mode those are the topics of that name in the configured account (moto's).
    let (sqs, sms_queue, email_queue, summary_queue) = runtime.block_on(async {
        let shared = emulator_config(&moto).await;
        let sns = aws_sdk_sns::Client::new(&shared);
        let sqs = aws_sdk_sqs::Client::new(&shared);
        let mut urls = Vec::new();
        for topic in ["high-severity-sms", "findings-email", "job-summaries"] {
            let topic_arn = sns
                .create_topic()
                .name(topic)
                .send()
                .await
                .unwrap()
                .topic_arn()
                .unwrap()
                .to_string();
            let (url, arn) = queue(&sqs, &format!("{topic}-inbox")).await;
            sns.subscribe()
                .topic_arn(topic_arn)
                .protocol("sqs")
                .endpoint(arn)
                .send()
                .await
                .unwrap();
            urls.push(url);
        }
        (sqs, urls[0].clone(), urls[1].clone(), urls[2].clone())
    });
    let work = tempfile::tempdir().unwrap();
    let dir = work.path();
    std::fs::copy(
        repo().join("sample-data/rules.json"),
        dir.join("rules.json"),
    )
    .unwrap();
    std::fs::write(
        dir.join("dragnet.toml"),
        s3_config(
            &moto,
            "123456789012",
            &format!("[events]\nrules = \"rules.json\"\n[alerts]\nkind = \"sns\"\nendpoint_url = \"{}\"\ntopic_arn = \"arn:aws:sns:us-east-1:123456789012:job-summaries\"\n", moto.endpoint),
        ),
    )
    .unwrap();
    let spec = repo().join("sample-data/jobs/one-time.json");
    let o = dragnet_aws(
        dir,
        &["scan", "--job", spec.to_str().unwrap(), "--out", "out"],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        !dir.join("alerts.jsonl").exists(),
        "SNS mode writes no outbox"
    );
    let (sms, email, summary) = runtime.block_on(async {
        (
            drain(&sqs, &sms_queue).await,
            drain(&sqs, &email_queue).await,
            drain(&sqs, &summary_queue).await,
        )
    });
    assert_eq!(summary.len(), 1, "{summary:?}");
    let text = summary[0]["Message"].as_str().unwrap();
    assert!(
        text.contains("finished: 2 findings (1 high, 1 medium), 1 objects quarantined.")
            && text.contains("patients.csv to s3://"),
        "{text}"
    );
    assert_eq!(sms.len(), 1, "{sms:?}");
    let sms = &sms[0];
    assert_eq!(sms["Type"], "Notification");
    let text = sms["Message"].as_str().unwrap();
    assert!(
        text.starts_with("Sensitive data finding: job ")
            && text.ends_with("Severity High for file 'patients.csv'."),
        "{text}"
    );
    assert_eq!(sms["MessageAttributes"]["severity"]["Value"], "High");
    assert!(sms["MessageAttributes"]["findingType"]["Value"]
        .as_str()
        .unwrap()
        .starts_with("SensitiveData:S3Object/"));
    assert!(sms["Subject"].as_str().unwrap().contains("High"));
    assert_eq!(email.len(), 1, "{email:?}");
    let text = email[0]["Message"].as_str().unwrap();
    assert!(
        text.contains("allergies.csv") && text.contains("severity Medium"),
        "{text}"
    );
    assert_eq!(email[0]["MessageAttributes"]["severity"]["Value"], "Medium");
}

#[test]
fn the_sqs_consumer_moves_what_finding_events_name_and_keeps_what_fails() {
    let moto = moto();
    let s3 = client(&moto);
    s3.create_bucket(SOURCE).unwrap();
    s3.create_bucket(ISOLATION).unwrap();
    upload_sample(&s3, &["patients.csv"], &ObjectAttributes::default());
    let work = tempfile::tempdir().unwrap();
    let dir = work.path();
    std::fs::write(
        dir.join("dragnet.toml"),
        store_config(&moto, &format!("[quarantine]\nbucket = \"{ISOLATION}\"\n")),
    )
    .unwrap();
    std::fs::write(dir.join("job.json"), spec_over(SOURCE)).unwrap();
    let o = dragnet_aws(
        dir,
        &["scan", "--job", "job.json", "--out", "out", "--no-events"],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let finding = jsonl(&dir.join("out/findings.jsonl")).remove(0);
    let event = serde_json::json!({
        "version": "0", "detail-type": "Macie Finding", "source": "dragnet",
        "account": "111222333444", "region": "us-east-1", "resources": [],
        "detail": finding,
    });

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let (sqs, url) = runtime.block_on(async {
        let sqs = aws_sdk_sqs::Client::new(&emulator_config(&moto).await);
        let (url, _) = queue(&sqs, "quarantine-requests").await;
        for body in [event.to_string(), "not a finding".to_string()] {
            sqs.send_message()
                .queue_url(&url)
                .message_body(body)
                .send()
                .await
                .unwrap();
        }
        (sqs, url)
    });
    let consume = || {
        dragnet_aws_env(
            dir,
            &["quarantine", "--queue-url", &url, "--once"],
            &[("AWS_ENDPOINT_URL_SQS", moto.endpoint.as_str())],
        )
    };
    let o = consume();
    expect_failure(&o, 1, "1 message(s) could not be handled");
    let lines: Vec<serde_json::Value> = String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let statuses: Vec<&str> = lines
        .iter()
        .map(|l| l["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses.len(), 2, "{lines:?}");
    assert!(statuses.contains(&"MOVED") && statuses.contains(&"FAILED"));
    assert_eq!(keys(&s3, SOURCE), Vec::<String>::new());
    assert!(keys(&s3, ISOLATION).contains(&"patients.csv".to_string()));

    // The moved message is gone; the failed one stays for the queue's redrive policy.
    let left = runtime.block_on(async {
        sqs.get_queue_attributes()
            .queue_url(&url)
            .attribute_names(aws_sdk_sqs::types::QueueAttributeName::All)
            .send()
            .await
            .unwrap()
    });
    let attrs = left.attributes().unwrap();
    let count = |name: aws_sdk_sqs::types::QueueAttributeName| attrs[&name].parse::<u32>().unwrap();
    assert_eq!(
        count(aws_sdk_sqs::types::QueueAttributeName::ApproximateNumberOfMessages)
            + count(aws_sdk_sqs::types::QueueAttributeName::ApproximateNumberOfMessagesNotVisible),
        1
    );
}

/// An SSN file and a restricted one in `bucket`, and a job spec over the bucket.
fn two_objects(s3: &S3Store, dir: &std::path::Path, bucket: &str) {
    s3.create_bucket(bucket).unwrap();
    for key in ["open/a.csv", "restricted/salaries.csv"] {
        s3.put(
            bucket,
            key,
            &mut &b"SSN\n536-22-1234\n"[..],
            &ObjectAttributes::default(),
        )
        .unwrap();
    }
    std::fs::write(dir.join("job.json"), spec_over(bucket)).unwrap();
}

#[test]
fn access_denied_on_one_object_is_recorded_and_the_job_completes() {
    let moto = moto();
    let s3 = client(&moto);
    let work = tempfile::tempdir().unwrap();
    let dir = work.path();
    two_objects(&s3, dir, "hr-exports");
    // The scanning role may do anything but read the restricted prefix.
    let (key_id, secret) = moto.enforce_iam_user(
        r#"{"Version":"2012-10-17","Statement":[
            {"Effect":"Allow","Action":"s3:*","Resource":"*"},
            {"Effect":"Deny","Action":"s3:GetObject","Resource":"arn:aws:s3:::hr-exports/restricted/*"}]}"#,
    );
    std::fs::write(dir.join("dragnet.toml"), store_config(&moto, "")).unwrap();
    let o = dragnet_aws_env(
        dir,
        &["scan", "--job", "job.json", "--out", "out", "--no-events"],
        &[
            ("AWS_ACCESS_KEY_ID", key_id.as_str()),
            ("AWS_SECRET_ACCESS_KEY", secret.as_str()),
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let summary = stdout_json(&o);
    assert_eq!(summary["runStatistics"]["objectsListed"], 2);
    assert_eq!(
        summary["runStatistics"]["objectsSkipped"]["PERMISSION_DENIED"], 1,
        "{summary}"
    );
    let findings = jsonl(&dir.join("out/findings.jsonl"));
    assert_eq!(findings.len(), 1);
    assert_eq!(
        findings[0]["resourcesAffected"]["s3Object"]["key"],
        "open/a.csv"
    );
    // The per-object result names the object and the reason.
    let results = discovery_results(&dir.join("out"));
    let denied = results
        .iter()
        .find(|r| r["resourcesAffected"]["s3Object"]["key"] == "restricted/salaries.csv")
        .expect("a result for the denied object");
    assert_eq!(
        denied["classificationDetails"]["result"]["status"]["reason"],
        "PERMISSION_DENIED"
    );
}

/// Every discovery result under `out/results`.
fn discovery_results(out: &std::path::Path) -> Vec<serde_json::Value> {
    files_under(&out.join("results"))
        .iter()
        .filter(|p| p.to_string_lossy().ends_with(".jsonl.gz"))
        .flat_map(|p| {
            text_of(p)
                .lines()
                .map(|l| serde_json::from_str(l).unwrap())
                .collect::<Vec<_>>()
        })
        .collect()
}

/// Deletes one object once the plan is made, before any object is read: the race of an
/// object deleted between listing and scanning.
struct DeleteAfterPlanning<'a> {
    s3: &'a S3Store,
    bucket: &'a str,
    key: &'a str,
}

impl dragnet_job::run::Progress for DeleteAfterPlanning<'_> {
    fn planned(&self, _objects: u64, _bytes: u64) {
        self.s3.delete(self.bucket, self.key).unwrap();
    }
}

#[test]
fn an_object_deleted_between_listing_and_scanning_is_no_longer_available() {
    let moto = moto();
    let s3 = client(&moto);
    let work = tempfile::tempdir().unwrap();
    two_objects(&s3, work.path(), "landing-zone");
    let spec = dragnet_model::JobSpec::from_json(
        &std::fs::read_to_string(work.path().join("job.json")).unwrap(),
    )
    .unwrap();
    let managed: Vec<_> = dragnet_detect::MANAGED.iter().collect();
    let engine =
        dragnet_detect::Engine::new(&managed, &[], dragnet_detect::AllowMatcher::default())
            .unwrap();
    let job = dragnet_job::run::JobRun {
        job_id: dragnet_job::adhoc_job_id(&spec),
        spec,
        region: "us-east-1".into(),
        created_at: dragnet_model::Timestamp::now(),
        plan: dragnet_job::PlanOptions {
            default_account: "111222333444".into(),
            sampling_seed: 42,
            listing: None,
            shard: None,
        },
        threads: 2,
        results_location: None,
    };
    let race = DeleteAfterPlanning {
        s3: &s3,
        bucket: "landing-zone",
        key: "restricted/salaries.csv",
    };
    let out = work.path().join("out");
    let report = dragnet_job::run::run_job(&job, &engine, &s3, &out, &race).unwrap();
    assert_eq!(report.statistics.objects_listed, 2);
    assert_eq!(
        report.statistics.objects_skipped["SOURCE_OBJECT_NO_LONGER_AVAILABLE"],
        1
    );
    assert_eq!(report.findings.len(), 1);
    let gone = discovery_results(&out)
        .into_iter()
        .find(|r| r["resourcesAffected"]["s3Object"]["key"] == "restricted/salaries.csv")
        .unwrap();
    assert_eq!(
        gone["classificationDetails"]["result"]["status"]["reason"],
        "SOURCE_OBJECT_NO_LONGER_AVAILABLE"
    );
}

/// An SDK client for settings the store does not write (versioning, encryption, policies).
async fn sdk_s3(moto: &Moto) -> aws_sdk_s3::Client {
    let shared = emulator_config(moto).await;
    aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&shared)
            .force_path_style(true)
            .build(),
    )
}

const KMS_KEY: &str = "arn:aws:kms:us-east-1:111222333444:key/finance";

/// A versioned, KMS-encrypted, tagged bucket behind a partial Block Public Access.
async fn finance_bucket(sdk: &aws_sdk_s3::Client, bucket: &str) {
    use aws_sdk_s3::types::*;
    sdk.create_bucket().bucket(bucket).send().await.unwrap();
    sdk.put_bucket_versioning()
        .bucket(bucket)
        .versioning_configuration(
            VersioningConfiguration::builder()
                .status(BucketVersioningStatus::Enabled)
                .build(),
        )
        .send()
        .await
        .unwrap();
    let by_default = ServerSideEncryptionByDefault::builder()
        .sse_algorithm(ServerSideEncryption::AwsKms)
        .kms_master_key_id(KMS_KEY)
        .build()
        .unwrap();
    sdk.put_bucket_encryption()
        .bucket(bucket)
        .server_side_encryption_configuration(
            ServerSideEncryptionConfiguration::builder()
                .rules(
                    ServerSideEncryptionRule::builder()
                        .apply_server_side_encryption_by_default(by_default)
                        .build(),
                )
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    sdk.put_public_access_block()
        .bucket(bucket)
        .public_access_block_configuration(
            PublicAccessBlockConfiguration::builder()
                .block_public_acls(true)
                .ignore_public_acls(true)
                .block_public_policy(false)
                .restrict_public_buckets(false)
                .build(),
        )
        .send()
        .await
        .unwrap();
    sdk.put_bucket_tagging()
        .bucket(bucket)
        .tagging(
            Tagging::builder()
                .tag_set(Tag::builder().key("Team").value("finance").build().unwrap())
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
}

/// A policy that lets anyone read and denies uploads without SSE-KMS. Set after the test's
/// uploads: the emulator applies the deny without evaluating its condition.
async fn public_read_encrypted_write_policy(sdk: &aws_sdk_s3::Client, bucket: &str) {
    sdk.put_bucket_policy()
        .bucket(bucket)
        .policy(format!(
            r#"{{"Version":"2012-10-17","Statement":[
                {{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::{bucket}/*"}},
                {{"Effect":"Deny","Principal":"*","Action":"s3:PutObject","Resource":"arn:aws:s3:::{bucket}/*",
                  "Condition":{{"StringNotEquals":{{"s3:x-amz-server-side-encryption":"aws:kms"}}}}}}]}}"#
        ))
        .send()
        .await
        .unwrap();
}

#[test]
fn findings_carry_bucket_security_and_versioned_objects_leave_no_readable_version() {
    let moto = moto();
    let s3 = client(&moto);
    s3.create_bucket(ISOLATION).unwrap();
    let bucket = "finance-reports";
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let sdk = sdk_s3(&moto).await;
        finance_bucket(&sdk, bucket).await;
        // Two versions of each file, both with sensitive data, uploaded as the policy demands.
        for key in ["q3.csv", "q4.csv"] {
            for ssn in ["536-22-1234", "536-22-5678"] {
                sdk.put_object()
                    .bucket(bucket)
                    .key(key)
                    .body(format!("SSN\n{ssn}\n").into_bytes().into())
                    .server_side_encryption(aws_sdk_s3::types::ServerSideEncryption::AwsKms)
                    .ssekms_key_id(KMS_KEY)
                    .send()
                    .await
                    .unwrap();
            }
        }
        public_read_encrypted_write_policy(&sdk, bucket).await;
    });
    let work = tempfile::tempdir().unwrap();
    let dir = work.path();
    std::fs::write(
        dir.join("dragnet.toml"),
        store_config(
            &moto,
            "max_attempts = 4\nconnect_timeout_secs = 5\nread_timeout_secs = 30\n",
        ),
    )
    .unwrap();
    std::fs::write(dir.join("job.json"), spec_over(bucket)).unwrap();
    let o = dragnet_aws(
        dir,
        &["scan", "--job", "job.json", "--out", "out", "--no-events"],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let findings = jsonl(&dir.join("out/findings.jsonl"));
    assert_eq!(findings.len(), 2);

    let b = &findings[0]["resourcesAffected"]["s3Bucket"];
    assert_eq!(
        b["defaultServerSideEncryption"]["encryptionType"],
        "aws:kms"
    );
    assert_eq!(b["defaultServerSideEncryption"]["kmsMasterKeyId"], KMS_KEY);
    assert_eq!(b["allowsUnencryptedObjectUploads"], "FALSE");
    assert_eq!(b["publicAccess"]["effectivePermission"], "PUBLIC");
    let level = &b["publicAccess"]["permissionConfiguration"]["bucketLevelPermissions"];
    assert_eq!(level["bucketPolicy"]["allowsPublicReadAccess"], true);
    assert_eq!(level["bucketPolicy"]["allowsPublicWriteAccess"], false);
    assert_eq!(level["blockPublicAccess"]["ignorePublicAcls"], true);
    assert_eq!(level["accessControlList"]["allowsPublicReadAccess"], false);
    assert!(!b["owner"]["id"].as_str().unwrap().is_empty());
    assert!(!b["createdAt"].is_null());
    assert_eq!(
        b["tags"],
        serde_json::json!([{"key": "Team", "value": "finance"}])
    );
    let object = &findings[0]["resourcesAffected"]["s3Object"];
    assert_eq!(object["serverSideEncryption"]["encryptionType"], "aws:kms");
    assert_eq!(object["serverSideEncryption"]["kmsMasterKeyId"], KMS_KEY);
    assert_eq!(object["publicAccess"], true);
    let current = s3.head(bucket, "q3.csv").unwrap().version_id.unwrap();
    assert_eq!(object["versionId"], current.as_str());

    // With purging, the scanned version and the older one are gone; the copy keeps SSE-KMS.
    let purge = dragnet_quarantine::Isolation {
        bucket: ISOLATION.into(),
        prefix: String::new(),
        purge_noncurrent_versions: true,
    };
    let moved = dragnet_quarantine::quarantine_event(&s3, &findings[0], &purge, "test").unwrap();
    assert_eq!(moved.status(), "MOVED");
    assert_eq!(moved.record().purged_versions.len(), 1);
    assert!(s3.head(bucket, "q3.csv").is_err());
    assert_eq!(s3.noncurrent_versions(bucket, "q3.csv").unwrap().len(), 0);
    let copy = s3.details(ISOLATION, "q3.csv").unwrap();
    assert_eq!(
        copy.encryption.unwrap().kms_key_id.as_deref(),
        Some(KMS_KEY)
    );
    let again = dragnet_quarantine::quarantine_event(&s3, &findings[0], &purge, "test").unwrap();
    assert_eq!(again.status(), "ALREADY_QUARANTINED");

    // Without purging, deleting the scanned version makes the older one current; running
    // the same finding again knows the move is done rather than seeing a changed object.
    let keep = dragnet_quarantine::Isolation {
        purge_noncurrent_versions: false,
        ..purge
    };
    let moved = dragnet_quarantine::quarantine_event(&s3, &findings[1], &keep, "test").unwrap();
    assert_eq!(moved.status(), "MOVED");
    let older = s3.head(bucket, "q4.csv").unwrap();
    assert_ne!(
        older.version_id.as_deref(),
        findings[1]["resourcesAffected"]["s3Object"]["versionId"].as_str()
    );
    let again = dragnet_quarantine::quarantine_event(&s3, &findings[1], &keep, "test").unwrap();
    assert_eq!(again.status(), "ALREADY_QUARANTINED");
}

#[test]
fn objects_over_the_copy_limit_are_copied_part_by_part_with_their_attributes() {
    let moto = moto();
    for (k, v) in AWS_TEST_ENV {
        std::env::set_var(k, v);
    }
    // A 5 MiB threshold stands in for CopyObject's 5 GiB limit; parts have S3's minimum size.
    let s3 = S3Store::connect(&S3Options {
        region: Some("us-east-1".into()),
        endpoint_url: Some(moto.endpoint.clone()),
        force_path_style: true,
        multipart_copy_threshold: 5 << 20,
        copy_part_size: 5 << 20,
        ..S3Options::default()
    })
    .unwrap();
    s3.create_bucket("big-source").unwrap();
    s3.create_bucket("big-isolation").unwrap();
    let body: Vec<u8> = (0..11u32 << 20).map(|i| (i % 251) as u8).collect();
    let attrs = ObjectAttributes {
        content_type: Some("text/csv".into()),
        metadata: BTreeMap::from([("source".into(), "warehouse".into())]),
        tags: BTreeMap::from([("Project".into(), "Synthea".into())]),
    };
    s3.put("big-source", "export.csv", &mut &body[..], &attrs)
        .unwrap();
    let copied = s3
        .copy(
            "big-source",
            "export.csv",
            "big-isolation",
            "export.csv",
            None,
        )
        .unwrap();
    assert_eq!(copied.size, body.len() as u64);
    assert!(
        copied.etag.as_deref().unwrap().ends_with("-3"),
        "a three-part upload: {:?}",
        copied.etag
    );
    let mut back = Vec::new();
    std::io::Read::read_to_end(
        &mut s3.get("big-isolation", "export.csv").unwrap(),
        &mut back,
    )
    .unwrap();
    assert!(back == body, "the copy has the same bytes");
    assert_eq!(s3.attributes("big-isolation", "export.csv").unwrap(), attrs);
}

/// Deploys the sample rules file into the emulator's EventBridge, as a user deploys the
/// walkthrough's rules with PutRule and PutTargets. dragnet's own target ARNs become AWS ones:
/// `dragnet:quarantine:*` the quarantine function, `dragnet:alert:<name>` the alert topic; each
/// is an SQS queue here, because the emulator delivers to neither Lambda nor SNS targets. The
/// dragnet-only targets (tag, log) are left out. Returns the queue URL per target.
async fn deploy_rules(
    events: &aws_sdk_eventbridge::Client,
    sqs: &aws_sdk_sqs::Client,
    rules_file: &std::path::Path,
) -> BTreeMap<String, String> {
    let rules: Vec<serde_json::Value> =
        serde_json::from_str(&std::fs::read_to_string(rules_file).unwrap()).unwrap();
    let mut queues = BTreeMap::new();
    for rule in rules {
        let mut targets = Vec::new();
        for target in rule["Targets"].as_array().unwrap() {
            let arn = target["Arn"].as_str().unwrap();
            let name = match arn.split(':').collect::<Vec<_>>()[..] {
                ["dragnet", "quarantine", ..] => "quarantine-function".to_string(),
                ["dragnet", "alert", topic] => topic.to_string(),
                _ => continue,
            };
            if !queues.contains_key(&name) {
                let (url, arn) = queue(sqs, &name).await;
                queues.insert(name.clone(), url);
                queues.insert(format!("{name}:arn"), arn);
            }
            let mut built = aws_sdk_eventbridge::types::Target::builder()
                .id(target["Id"].as_str().unwrap())
                .arn(&queues[&format!("{name}:arn")]);
            if let Some(transformer) = target.get("InputTransformer") {
                let paths = transformer["InputPathsMap"].as_object().unwrap();
                built = built.input_transformer(
                    aws_sdk_eventbridge::types::InputTransformer::builder()
                        .set_input_paths_map(Some(
                            paths
                                .iter()
                                .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string()))
                                .collect(),
                        ))
                        .input_template(transformer["InputTemplate"].as_str().unwrap())
                        .build()
                        .unwrap(),
                );
            }
            targets.push(built.build().unwrap());
        }
        if targets.is_empty() {
            continue;
        }
        let name = rule["Name"].as_str().unwrap();
        events
            .put_rule()
            .name(name)
            .event_pattern(rule["EventPattern"].to_string())
            .send()
            .await
            .unwrap();
        events
            .put_targets()
            .rule(name)
            .set_targets(Some(targets))
            .send()
            .await
            .unwrap();
    }
    queues.retain(|k, _| !k.ends_with(":arn"));
    queues
}

/// The Macie walkthrough, end to end against the emulator: bucket names in SSM, the Synthea
/// files in S3, the one-time job with the three custom identifiers, finding events through
/// the walkthrough's rules, High objects moved by the quarantine Lambda handler, alert texts
/// per rule and the job summary through SNS.
#[test]
fn the_walkthrough_runs_end_to_end_against_the_emulator() {
    let moto = moto();
    let s3 = client(&moto);
    s3.create_bucket(SOURCE).unwrap();
    s3.create_bucket(ISOLATION).unwrap();
    s3.create_bucket("macie-results").unwrap();
    let files = [
        "patients.csv",
        "organizations.csv",
        "allergies.csv",
        "payers.csv",
        "supplies.csv",
    ];
    upload_sample(&s3, &files, &ObjectAttributes::default());
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let (sqs, queues, summary_queue) = runtime.block_on(async {
        let shared = emulator_config(&moto).await;
        let ssm = aws_sdk_ssm::Client::new(&shared);
        for (name, value) in [
            ("/macie_demo/source_bucket", SOURCE),
            ("/macie_demo/isolation_bucket", ISOLATION),
        ] {
            ssm.put_parameter()
                .name(name)
                .value(value)
                .r#type(aws_sdk_ssm::types::ParameterType::String)
                .send()
                .await
                .unwrap();
        }
        let sqs = aws_sdk_sqs::Client::new(&shared);
        let events = aws_sdk_eventbridge::Client::new(&shared);
        let queues = deploy_rules(&events, &sqs, &repo().join("sample-data/rules.json")).await;
        let sns = aws_sdk_sns::Client::new(&shared);
        let topic = sns
            .create_topic()
            .name("job-summaries")
            .send()
            .await
            .unwrap()
            .topic_arn()
            .unwrap()
            .to_string();
        let (summary_queue, summary_arn) = queue(&sqs, "job-summaries-inbox").await;
        sns.subscribe()
            .topic_arn(topic)
            .protocol("sqs")
            .endpoint(summary_arn)
            .send()
            .await
            .unwrap();
        (sqs, queues, summary_queue)
    });

    let work = tempfile::tempdir().unwrap();
    let dir = work.path();
    let spec = std::fs::read_to_string(repo().join("sample-data/jobs/one-time.json"))
        .unwrap()
        .replace(SOURCE, "ssm:/macie_demo/source_bucket");
    std::fs::write(dir.join("one-time.json"), spec).unwrap();
    std::fs::write(
        dir.join("dragnet.toml"),
        s3_config(
            &moto,
            "123456789012",
            &format!(
                "[events]\nkind = \"eventbridge\"\nendpoint_url = \"{0}\"\n[alerts]\nkind = \"sns\"\nendpoint_url = \"{0}\"\ntopic_arn = \"arn:aws:sns:us-east-1:123456789012:job-summaries\"\n[quarantine]\nbucket = \"ssm:/macie_demo/isolation_bucket\"\n[results]\nlocation = \"s3://macie-results/discovery\"\nkms_key_id = \"{KMS_KEY}\"\n",
                moto.endpoint
            ),
        ),
    )
    .unwrap();
    let o = dragnet_aws_env(
        dir,
        &["scan", "--job", "one-time.json", "--out", "out"],
        &[("AWS_ENDPOINT_URL_SSM", moto.endpoint.as_str())],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stdout_json(&o)["findings"], 4);
    let findings = jsonl(&dir.join("out/findings.jsonl"));
    // Each finding's discovery result is in the results bucket, encrypted with the key.
    for finding in &findings {
        let location = finding["classificationDetails"]["detailedResultsLocation"]
            .as_str()
            .unwrap();
        let key = location.strip_prefix("s3://macie-results/").unwrap();
        assert!(key.starts_with("discovery/AWSLogs/"), "{location}");
        let details = s3.details("macie-results", key).unwrap();
        assert_eq!(
            details.encryption.unwrap().kms_key_id.as_deref(),
            Some(KMS_KEY)
        );
    }
    let severity_of = |key: &str| {
        findings
            .iter()
            .find(|f| f["resourcesAffected"]["s3Object"]["key"] == key)
            .map(|f| f["severity"]["description"].as_str().unwrap().to_string())
    };

    let (to_quarantine, sms, email, summary) = runtime.block_on(async {
        (
            drain(&sqs, &queues["quarantine-function"]).await,
            drain(&sqs, &queues["high-severity-sms"]).await,
            drain(&sqs, &queues["findings-email"]).await,
            drain(&sqs, &summary_queue).await,
        )
    });
    // The quarantine function receives the High findings' events and moves those objects.
    assert_eq!(to_quarantine.len(), 2, "{to_quarantine:?}");
    let isolation = dragnet_quarantine::Isolation {
        bucket: ISOLATION.into(),
        prefix: String::new(),
        purge_noncurrent_versions: false,
    };
    for event in &to_quarantine {
        assert_eq!(event["detail-type"], "Macie Finding");
        let out = dragnet_lambda::handle(&s3, &isolation, event).unwrap();
        assert_eq!(out["status"], "MOVED");
    }
    assert_eq!(severity_of("patients.csv").as_deref(), Some("High"));
    assert_eq!(severity_of("organizations.csv").as_deref(), Some("High"));
    assert_eq!(
        keys(&s3, SOURCE),
        vec!["allergies.csv", "payers.csv", "supplies.csv"]
    );
    let isolated = keys(&s3, ISOLATION);
    for moved in ["organizations.csv", "patients.csv"] {
        assert!(isolated.contains(&moved.to_string()), "{isolated:?}");
    }
    // A redelivered event is harmless.
    let again = dragnet_lambda::handle(&s3, &isolation, &to_quarantine[0]).unwrap();
    assert_eq!(again["status"], "ALREADY_QUARANTINED");

    // The SMS rule's short text per High finding, the email rule's long one per Medium.
    assert_eq!(sms.len(), 2, "{sms:?}");
    for text in &sms {
        let text = text.as_str().unwrap();
        assert!(
            text.starts_with("Sensitive data finding: job ")
                && text.contains("account 123456789012")
                && text.contains("Severity High for file '"),
            "{text}"
        );
        assert!(text.len() <= 140, "an SMS fits: {text}");
    }
    let mediums = findings
        .iter()
        .filter(|f| f["severity"]["description"] == "Medium")
        .count();
    assert_eq!(email.len(), mediums, "{email:?}");
    assert!(email.iter().all(|t| {
        let t = t.as_str().unwrap();
        t.contains("severity Medium") && t.contains(&format!("s3://{SOURCE}/"))
    }));
    assert_eq!(summary.len(), 1, "{summary:?}");
    assert!(summary[0]["Message"]
        .as_str()
        .unwrap()
        .contains("4 findings (2 high, 2 medium)"));
}

/// A work folder of one "machine" whose job store is the shared one in the emulator.
fn machine(moto: &Moto, name: &str, root: &std::path::Path) -> std::path::PathBuf {
    let dir = root.join(name);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("dragnet.toml"),
        store_config(moto, "[state]\npath = \"local/state.db\"\nshared = \"s3://dragnet-state/prod\"\nlease_wait_secs = 0\n"),
    )
    .unwrap();
    dir
}

/// The shared store's bucket and a patient bucket with one SSN, and a folder for machines.
fn state_and_patient_buckets(moto: &Moto) -> (S3Store, tempfile::TempDir) {
    let s3 = client(moto);
    s3.create_bucket("dragnet-state").unwrap();
    s3.create_bucket("patient-data").unwrap();
    s3.put(
        "patient-data",
        "p.csv",
        &mut &b"SSN\n536-22-1234\n"[..],
        &ObjectAttributes::default(),
    )
    .unwrap();
    (s3, tempfile::tempdir().unwrap())
}

#[test]
fn the_job_store_is_shared_through_s3_and_one_writer_holds_it_at_a_time() {
    let moto = moto();
    let (s3, root) = state_and_patient_buckets(&moto);
    let (a, b) = (
        machine(&moto, "a", root.path()),
        machine(&moto, "b", root.path()),
    );
    std::fs::write(
        a.join("job.json"),
        r#"{"jobType":"ONE_TIME","name":"shared","managedDataIdentifierSelector":"ALL","s3JobDefinition":{"bucketDefinitions":[{"accountId":"111222333444","buckets":["patient-data"]}]}}"#,
    )
    .unwrap();

    // Created on A, listed and run on B, its history read back on A.
    let o = dragnet_aws(&a, &["jobs", "create", "job.json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let id = stdout_json(&o)["jobId"].as_str().unwrap().to_string();
    assert!(keys(&s3, "dragnet-state").contains(&"prod/state.db".to_string()));
    let o = dragnet_aws(&b, &["jobs", "list", "--format", "json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stdout_json(&o)["items"][0]["jobId"], id.as_str());
    let o = dragnet_aws(&b, &["jobs", "run", &id, "--out", "out", "--no-events"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stdout_json(&o)["findings"], 1);
    let o = dragnet_aws(&a, &["jobs", "history", &id]);
    assert!(o.status.success(), "{}", stderr(&o));
    let history = stdout_json(&o);
    assert_eq!(history["runs"].as_array().unwrap().len(), 1, "{history}");
    assert_eq!(history["runs"][0]["status"], "COMPLETE");

    // While another scheduler holds the lease, a writer gives up and says who holds it;
    // readers still read; once the lease lapses the writer proceeds.
    let lease = |expires: &str| {
        format!(
            r#"{{"holder":"scheduler-2:4242","acquiredAt":"2026-01-01T00:00:00.000Z","expiresAt":"{expires}"}}"#
        )
    };
    s3.put(
        "dragnet-state",
        "prod/lease.json",
        &mut lease("2999-01-01T00:00:00.000Z").as_bytes(),
        &ObjectAttributes::default(),
    )
    .unwrap();
    let o = dragnet_aws(&a, &["jobs", "cancel", &id]);
    expect_failure(&o, 1, "in use by scheduler-2:4242");
    let o = dragnet_aws(&a, &["jobs", "describe", &id]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stdout_json(&o)["jobStatus"], "COMPLETE");
    s3.put(
        "dragnet-state",
        "prod/lease.json",
        &mut lease("2026-01-01T00:01:00.000Z").as_bytes(),
        &ObjectAttributes::default(),
    )
    .unwrap();
    let o = dragnet_aws(&a, &["jobs", "create", "job.json", "--name", "second"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = dragnet_aws(&b, &["jobs", "list", "--format", "json"]);
    assert_eq!(stdout_json(&o)["items"].as_array().unwrap().len(), 2);
}

#[test]
fn the_api_works_over_the_shared_job_store() {
    let moto = moto();
    let (_s3, root) = state_and_patient_buckets(&moto);
    let (a, b) = (
        machine(&moto, "a", root.path()),
        machine(&moto, "b", root.path()),
    );
    let port = common::serve::free_port();
    let mut config = std::fs::read_to_string(a.join("dragnet.toml")).unwrap();
    config.push_str(&format!("[server]\nlisten = \"127.0.0.1:{port}\"\n"));
    std::fs::write(a.join("dragnet.toml"), config).unwrap();
    std::fs::write(a.join("job.json"), spec_over("patient-data")).unwrap();
    let id = stdout_json(&dragnet_aws(&a, &["jobs", "create", "job.json"]))["jobId"]
        .as_str()
        .unwrap()
        .to_string();
    let o = dragnet_aws(&b, &["jobs", "run", &id, "--out", "out", "--no-events"]);
    assert!(o.status.success(), "{}", stderr(&o));
    // A token made on another machine works: it is in the shared store.
    let o = dragnet_aws(
        &b,
        &["tokens", "create", "--name", "ops", "--role", "admin"],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let token = stdout_json(&o)["token"].as_str().unwrap().to_string();

    let serve = common::serve::Serve::start_with(&a, port, AWS_TEST_ENV);
    let (code, found) = serve.call(&token, "POST", "/findings", "{}");
    assert_eq!(code, 200, "{found}");
    assert_eq!(found["findingIds"].as_array().unwrap().len(), 1);
    let finding = found["findingIds"][0].as_str().unwrap();
    let (code, revealed) = serve.call(&token, "GET", &format!("/findings/{finding}/reveal"), "");
    assert_eq!(code, 200, "{revealed}");
    assert_eq!(
        revealed["sensitiveDataOccurrences"]["USA_SOCIAL_SECURITY_NUMBER"][0]["value"],
        "536-22-1234"
    );
    // A change through the API is saved to the shared store, where machine B sees it.
    let (code, _) = serve.call(
        &token,
        "POST",
        "/tokens",
        r#"{"name": "vera", "role": "viewer"}"#,
    );
    assert_eq!(code, 201);
    let listed = dragnet_aws(&b, &["tokens", "list"]);
    assert!(String::from_utf8_lossy(&listed.stdout).contains("\"vera\""));
    assert!(
        a.join("local/state.api.db").is_file(),
        "the API keeps its own copy of the shared store"
    );
    let log = serve.stop();
    assert!(!log.contains("536-22-1234"), "{log}");
}

/// The ids and severities of the findings under `out`.
fn finding_ids(out: &std::path::Path) -> Vec<(String, String)> {
    let mut ids: Vec<(String, String)> = jsonl(&out.join("findings.jsonl"))
        .iter()
        .map(|f| {
            (
                f["id"].as_str().unwrap().to_string(),
                f["severity"]["description"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    ids.sort();
    ids
}

#[test]
fn kubernetes_indexes_and_distributed_map_batches_scan_what_one_run_scans() {
    let moto = moto();
    let s3 = client(&moto);
    let bucket = "lake-bucket";
    s3.create_bucket(bucket).unwrap();
    for i in 0..12 {
        let body = if i % 2 == 0 {
            format!("id,ssn\n{i},536-22-{:04}\n", 1000 + i)
        } else {
            format!("id,note\n{i},nothing\n")
        };
        s3.put(
            bucket,
            &format!("landing/{i:02}.csv"),
            &mut body.as_bytes(),
            &ObjectAttributes::default(),
        )
        .unwrap();
    }
    let work = tempfile::tempdir().unwrap();
    let dir = work.path();
    std::fs::write(dir.join("dragnet.toml"), store_config(&moto, "")).unwrap();
    std::fs::write(dir.join("job.json"), spec_over(bucket)).unwrap();
    // `extra` starts with the subcommand.
    let scan = |extra: &[&str], env: &[(&str, String)]| {
        let mut args = vec![extra[0], "--job", "job.json", "--no-events"];
        args.extend_from_slice(&extra[1..]);
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let o = dragnet_aws_env(dir, &args, &env);
        assert!(o.status.success(), "{args:?}: {}", stderr(&o));
    };
    let merge = |out: &str, parts: &[String]| {
        let mut args = vec!["jobs", "merge", "--out", out];
        args.extend(parts.iter().map(String::as_str));
        let o = dragnet_aws(dir, &args);
        assert!(o.status.success(), "{}", stderr(&o));
    };
    scan(&["scan", "--out", "single"], &[]);
    let single = finding_ids(&dir.join("single"));
    assert_eq!(single.len(), 6);

    // A Kubernetes Indexed Job: each pod gets its index in JOB_COMPLETION_INDEX.
    let pods: Vec<String> = (0..3).map(|i| format!("pod-{i}")).collect();
    for (i, out) in pods.iter().enumerate() {
        scan(
            &["scan", "--shard", "auto/3", "--out", out],
            &[("JOB_COMPLETION_INDEX", i.to_string())],
        );
    }
    merge("k8s", &pods);
    assert_eq!(finding_ids(&dir.join("k8s")), single);

    // A Distributed Map: the S3 ItemReader's items, in batches of 5.
    let items: Vec<serde_json::Value> = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(async {
            let listed = sdk_s3(&moto)
                .await
                .list_objects_v2()
                .bucket(bucket)
                .send()
                .await
                .unwrap();
            listed
                .contents()
                .iter()
                .map(|o| {
                    serde_json::json!({
                        "Etag": o.e_tag().unwrap(),
                        "Key": o.key().unwrap(),
                        "LastModified": o.last_modified().unwrap().secs(),
                        "Size": o.size().unwrap(),
                        "StorageClass": o.storage_class().unwrap().as_str(),
                    })
                })
                .collect()
        });
    assert!(items[0]["Etag"].as_str().unwrap().starts_with('"'));
    let mut batches = Vec::new();
    for (j, chunk) in items.chunks(5).enumerate() {
        let input = dir.join(format!("batch-{j}.json"));
        std::fs::write(
            &input,
            serde_json::json!({"Items": chunk, "BatchInput": {"Bucket": bucket}}).to_string(),
        )
        .unwrap();
        let out = format!("batch-out-{j}");
        scan(
            &[
                "scan-batch",
                "--input",
                input.to_str().unwrap(),
                "--out",
                &out,
            ],
            &[],
        );
        batches.push(out);
    }
    assert_eq!(batches.len(), 3);
    merge("map", &batches);
    assert_eq!(finding_ids(&dir.join("map")), single);
    let stats: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("map/job.json")).unwrap()).unwrap();
    assert_eq!(stats["runStatistics"]["objectsListed"], 12);

    // The scan Lambda of the Step Functions deployment: the same batches with the job spec
    // and the execution name in BatchInput, then the merge, which publishes to EventBridge.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    s3.create_bucket("results-bucket").unwrap();
    let (sqs, queue_url) = runtime.block_on(async {
        let shared = emulator_config(&moto).await;
        let events = aws_sdk_eventbridge::Client::new(&shared);
        let sqs = aws_sdk_sqs::Client::new(&shared);
        let url = subscribe(
            &events,
            &sqs,
            "lake-findings",
            r#"{"source":["dragnet"],"detail-type":["Macie Finding"]}"#,
        )
        .await;
        (sqs, url)
    });
    let settings = dragnet_lambda::scan::ScanSettings::from_env(|name| match name {
        "DRAGNET_OUTPUT_LOCATION" => Some("s3://results-bucket/dragnet".into()),
        "DRAGNET_ACCOUNT_ID" => Some("111222333444".into()),
        "AWS_REGION" => Some("us-east-1".into()),
        _ => None,
    })
    .unwrap();
    let publisher = dragnet_events::eventbridge::EventBridgePublisher::new(
        "default",
        &dragnet_events::aws::AwsOptions {
            region: Some("us-east-1".into()),
            endpoint_url: Some(moto.endpoint.clone()),
        },
        dragnet_events::bus::RetryPolicy::default(),
    )
    .unwrap();
    let publish = |events: &[serde_json::Value]| publisher.publish(events);
    let mut spec: serde_json::Value = serde_json::from_str(&spec_over(bucket)).unwrap();
    // The CLI names a spec without a name after its file; job and finding ids follow.
    spec["name"] = "job".into();
    for chunk in items.chunks(5) {
        let batch = serde_json::json!({"Items": chunk, "BatchInput": {
            "Bucket": bucket, "JobSpec": spec, "RunId": "exec-1"}});
        dragnet_lambda::scan::handle_scan(&s3, &settings, &publish, batch).unwrap();
    }
    let merged = dragnet_lambda::scan::handle_scan(
        &s3,
        &settings,
        &publish,
        serde_json::json!({"Merge": {"RunId": "exec-1"}}),
    )
    .unwrap();
    assert_eq!(merged["Batches"], 3);
    assert_eq!(merged["Statistics"]["objectsListed"], 12);
    let merged_dir = dir.join("lambda");
    dragnet_store::download_prefix(&s3, "results-bucket", "dragnet/runs/exec-1", &merged_dir)
        .unwrap();
    assert_eq!(finding_ids(&merged_dir), single);
    let delivered = runtime.block_on(drain(&sqs, &queue_url));
    let mut delivered: Vec<String> = delivered
        .iter()
        .map(|e| e["detail"]["id"].as_str().unwrap().to_string())
        .collect();
    delivered.sort();
    let expected: Vec<String> = single.iter().map(|(id, _)| id.clone()).collect();
    assert_eq!(
        delivered, expected,
        "one event per finding reached the rule"
    );

    // A batch for a bucket the job does not name is refused.
    std::fs::write(
        dir.join("stray.json"),
        r#"{"Items":[{"Key":"a.csv","Size":1}],"BatchInput":{"Bucket":"other-bucket"}}"#,
    )
    .unwrap();
    let o = dragnet_aws(
        dir,
        &[
            "scan-batch",
            "--job",
            "job.json",
            "--input",
            "stray.json",
            "--no-events",
        ],
    );
    expect_failure(
        &o,
        2,
        "\"other-bucket\" is not one of the job spec's buckets",
    );
}
