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
    })
    .unwrap()
}

fn keys(s3: &S3Store, bucket: &str) -> Vec<String> {
    let mut keys = Vec::new();
    s3.list(bucket, "", &mut |m| keys.push(m.key)).unwrap();
    keys
}

/// A config for the S3 store on the emulator with the walkthrough's custom identifiers, in
/// `account`, followed by `rest` (the sections a test adds).
fn s3_config(moto: &Moto, account: &str, rest: &str) -> String {
    format!(
        "region = \"us-east-1\"\naccount_id = \"{}\"\nidentifiers = [\"{}\"]\n[store]\nkind = \"s3\"\nendpoint_url = \"{}\"\nforce_path_style = true\n{rest}",
        account,
        repo().join("sample-data/custom-identifiers.json").display(),
        moto.endpoint
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
    assert_eq!(s3.attributes(ISOLATION, "patients.csv").unwrap(), attrs);
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
    std::fs::write(
        work.path().join("dragnet.toml"),
        format!(
            "[store]\nkind = \"s3\"\nendpoint_url = \"{}\"\nforce_path_style = true\n",
            moto.endpoint
        ),
    )
    .unwrap();
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
    assert_eq!(
        jsonl(&work.path().join("out/findings.jsonl")).len(),
        1,
        "the other bucket was scanned"
    );
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
    std::fs::write(
        dir.join("dragnet.toml"),
        format!(
            "[store]\nkind = \"s3\"\nendpoint_url = \"{}\"\nforce_path_style = true\n",
            moto.endpoint
        ),
    )
    .unwrap();
    let spec = |param: &str| {
        format!(
            r#"{{"jobType":"ONE_TIME","managedDataIdentifierSelector":"ALL","s3JobDefinition":{{"bucketDefinitions":[{{"accountId":"111222333444","buckets":["ssm:{param}"]}}]}}}}"#
        )
    };
    std::fs::write(
        dir.join("job.json"),
        spec("/macie_demo/patient_data_bucket"),
    )
    .unwrap();
    let run = |args: &[&str]| {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_dragnet"));
        cmd.args(args)
            .current_dir(dir)
            .env("AWS_ENDPOINT_URL_SSM", &moto.endpoint);
        for (k, v) in AWS_TEST_ENV {
            cmd.env(k, v);
        }
        cmd.output().unwrap()
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
        format!(
            "[store]\nkind = \"s3\"\nendpoint_url = \"{}\"\nforce_path_style = true\n[quarantine]\nbucket = \"{ISOLATION}\"\n",
            moto.endpoint
        ),
    )
    .unwrap();
    std::fs::write(
        dir.join("job.json"),
        format!(r#"{{"jobType":"ONE_TIME","managedDataIdentifierSelector":"ALL","s3JobDefinition":{{"bucketDefinitions":[{{"accountId":"111222333444","buckets":["{SOURCE}"]}}]}}}}"#),
    )
    .unwrap();
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
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_dragnet"));
        cmd.args(["quarantine", "--queue-url", &url, "--once"])
            .current_dir(dir)
            .env("AWS_ENDPOINT_URL_SQS", &moto.endpoint);
        for (k, v) in AWS_TEST_ENV {
            cmd.env(k, v);
        }
        cmd.output().unwrap()
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
