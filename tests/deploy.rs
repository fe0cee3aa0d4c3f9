//! The AWS deployment (`deploy/aws/`): the CloudFormation/SAM template and the state machine
//! definition hold the guarantees the README claims (logging with execution data into a
//! masked log group, no public buckets, no wildcard IAM actions), and the state machine's
//! payloads are what the scan function takes, so a deployment scans, merges and publishes.
//! `cfn-lint` and `asl-validator` check the same files in CI (`deploy/check.sh`).

mod common;

use std::collections::{BTreeMap, BTreeSet};

use common::repo;
use dragnet_store::{DirStore, ObjectStore};
use serde_json::{json, Value};

const ACCOUNT: &str = "111122223333";
const STACK: &str = "dragnet";

fn read_json(relative: &str) -> Value {
    let path = repo().join(relative);
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap())
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn template() -> Value {
    read_json("deploy/aws/template.json")
}

fn resources(template: &Value) -> &serde_json::Map<String, Value> {
    template["Resources"].as_object().unwrap()
}

fn of_type<'a>(template: &'a Value, kind: &str) -> Vec<(&'a String, &'a Value)> {
    resources(template)
        .iter()
        .filter(|(_, r)| r["Type"] == kind)
        .collect()
}

/// Resolves the intrinsic functions this template uses, with pseudo parameters fixed,
/// parameters at their defaults and resources named after their logical ids.
fn resolve(template: &Value, value: &Value) -> Value {
    let name = |id: &str| -> Value {
        match id {
            "AWS::Partition" => json!("aws"),
            "AWS::AccountId" => json!(ACCOUNT),
            "AWS::Region" => json!("us-east-1"),
            "AWS::StackName" => json!(STACK),
            _ => match template["Parameters"].get(id) {
                Some(p) if p["Type"] == "CommaDelimitedList" => json!(p["Default"]
                    .as_str()
                    .unwrap()
                    .split(',')
                    .collect::<Vec<_>>()),
                Some(p) => p["Default"].clone(),
                None => {
                    assert!(
                        resources(template).contains_key(id),
                        "a reference to {id}, which is neither a parameter nor a resource"
                    );
                    json!(format!("{}-name", id.to_lowercase()))
                }
            },
        }
    };
    match value {
        Value::Object(map) if map.len() == 1 => {
            let (k, v) = map.iter().next().unwrap();
            match k.as_str() {
                "Ref" => name(v.as_str().unwrap()),
                "Fn::GetAtt" => {
                    let id = v[0].as_str().unwrap();
                    assert!(resources(template).contains_key(id), "GetAtt of {id}");
                    json!(format!("arn:aws:{id}"))
                }
                "Fn::Sub" => {
                    let text = v.as_str().unwrap();
                    let mut out = String::new();
                    let mut rest = text;
                    while let Some(start) = rest.find("${") {
                        out.push_str(&rest[..start]);
                        let end = rest[start..].find('}').unwrap() + start;
                        let var = &rest[start + 2..end];
                        let (id, attr) = var.split_once('.').unwrap_or((var, ""));
                        let resolved = if attr.is_empty() {
                            name(id)
                        } else {
                            assert!(resources(template).contains_key(id), "Sub of {var}");
                            json!(format!("arn:aws:{id}"))
                        };
                        out.push_str(resolved.as_str().unwrap_or(&resolved.to_string()));
                        rest = &rest[end + 1..];
                    }
                    out.push_str(rest);
                    json!(out)
                }
                _ => Value::Object(
                    map.iter()
                        .map(|(k, v)| (k.clone(), resolve(template, v)))
                        .collect(),
                ),
            }
        }
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), resolve(template, v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(|v| resolve(template, v)).collect()),
        other => other.clone(),
    }
}

#[test]
fn every_state_machine_logs_execution_data_to_a_masked_log_group() {
    let t = template();
    let machines: Vec<(&String, &Value)> = resources(&t)
        .iter()
        .filter(|(_, r)| {
            r["Type"] == "AWS::Serverless::StateMachine"
                || r["Type"] == "AWS::StepFunctions::StateMachine"
        })
        .collect();
    assert!(!machines.is_empty());
    // Every identifier dragnet detects that CloudWatch Logs can mask.
    let maskable: BTreeSet<&str> = dragnet_detect::MANAGED
        .iter()
        .filter(|m| m.cloudwatch_name.is_some())
        .map(|m| m.id)
        .collect();
    for (id, machine) in machines {
        let p = &machine["Properties"];
        let logging = if machine["Type"] == "AWS::Serverless::StateMachine" {
            &p["Logging"]
        } else {
            &p["LoggingConfiguration"]
        };
        assert_eq!(logging["Level"], "ALL", "{id}: StepFunctions.1");
        assert_eq!(logging["IncludeExecutionData"], true, "{id}");
        let destinations = logging["Destinations"].as_array().unwrap();
        assert!(!destinations.is_empty(), "{id}");
        for d in destinations {
            let group = d["CloudWatchLogsLogGroup"]["LogGroupArn"]["Fn::GetAtt"][0]
                .as_str()
                .unwrap_or_else(|| panic!("{id}: a log group of this template"));
            let group = &resources(&t)[group];
            assert_eq!(group["Type"], "AWS::Logs::LogGroup");
            let policy = resolve(&t, &group["Properties"]["DataProtectionPolicy"]);
            let parsed = dragnet_mask::MaskPolicy::parse(&policy.to_string())
                .unwrap_or_else(|e| panic!("{id}: the log group's data protection policy: {e}"));
            let masked: BTreeSet<&str> = parsed.managed.iter().map(|m| m.id).collect();
            let missing: Vec<_> = maskable.difference(&masked).collect();
            let extra: Vec<_> = masked.difference(&maskable).collect();
            assert!(
                missing.is_empty() && extra.is_empty(),
                "{id}: the log group's policy must mask every identifier with a CloudWatch name; add the names of {missing:?}, remove those of {extra:?}"
            );
        }
    }
}

#[test]
fn every_bucket_blocks_public_access_is_encrypted_and_refuses_plain_http() {
    let t = template();
    let buckets = of_type(&t, "AWS::S3::Bucket");
    assert_eq!(buckets.len(), 3);
    let policies = of_type(&t, "AWS::S3::BucketPolicy");
    for (id, bucket) in buckets {
        let p = &bucket["Properties"];
        let block = &p["PublicAccessBlockConfiguration"];
        for setting in [
            "BlockPublicAcls",
            "BlockPublicPolicy",
            "IgnorePublicAcls",
            "RestrictPublicBuckets",
        ] {
            assert_eq!(block[setting], true, "{id}: {setting}");
        }
        assert!(
            p["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]
                ["ServerSideEncryptionByDefault"]["SSEAlgorithm"]
                .is_string(),
            "{id}"
        );
        assert_eq!(
            p["OwnershipControls"]["Rules"][0]["ObjectOwnership"], "BucketOwnerEnforced",
            "{id}: no ACLs"
        );
        let tls_only = policies.iter().any(|(_, policy)| {
            policy["Properties"]["Bucket"]["Ref"] == id.as_str()
                && policy["Properties"]["PolicyDocument"]["Statement"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|s| {
                        s["Effect"] == "Deny"
                            && s["Condition"]["Bool"]["aws:SecureTransport"] == "false"
                    })
        });
        assert!(tls_only, "{id}: a policy denies requests without TLS");
    }
    let isolation = &resources(&t)["IsolationBucket"]["Properties"];
    assert_eq!(isolation["VersioningConfiguration"]["Status"], "Enabled");
}

/// Every policy statement in the template: IAM roles' inline policies, and the resource
/// policies of buckets, keys, topics and queues.
fn statements(t: &Value) -> Vec<(String, Value)> {
    let mut out = Vec::new();
    let mut push = |owner: String, doc: &Value| {
        for s in doc["Statement"].as_array().unwrap() {
            out.push((owner.clone(), s.clone()));
        }
    };
    for (id, r) in resources(t) {
        let p = &r["Properties"];
        for policy in p["Policies"].as_array().into_iter().flatten() {
            push(id.clone(), &policy["PolicyDocument"]);
        }
        for key in ["PolicyDocument", "KeyPolicy", "AssumeRolePolicyDocument"] {
            if p[key].is_object() {
                push(format!("{id}.{key}"), &p[key]);
            }
        }
    }
    out
}

#[test]
fn no_policy_statement_allows_every_action_or_everyone() {
    let t = template();
    let all = statements(&t);
    assert!(all.len() > 20, "{} statements", all.len());
    for (owner, s) in all {
        if s["Effect"] != "Allow" {
            continue;
        }
        let actions: Vec<&str> = match &s["Action"] {
            Value::String(a) => vec![a.as_str()],
            Value::Array(list) => list.iter().map(|a| a.as_str().unwrap()).collect(),
            other => panic!("{owner}: Action {other}"),
        };
        for action in actions {
            let wildcard = action == "*" || action.ends_with(":*");
            assert!(!wildcard, "{owner}: {action} grants every action");
        }
        assert_ne!(s["Principal"], "*", "{owner}: allows everyone");
        assert_ne!(s["Principal"]["AWS"], "*", "{owner}: allows everyone");
        assert!(s.get("NotAction").is_none(), "{owner}: NotAction");
    }
}

/// The state machine definition with the template's substitutions applied.
fn definition(t: &Value) -> Value {
    let machine = &resources(t)["ScanStateMachine"]["Properties"];
    assert_eq!(machine["DefinitionUri"], "statemachine.asl.json");
    let substitutions = resolve(t, &machine["DefinitionSubstitutions"]);
    let mut text =
        std::fs::read_to_string(repo().join("deploy/aws/statemachine.asl.json")).unwrap();
    let mut used = BTreeSet::new();
    for (k, v) in substitutions.as_object().unwrap() {
        let placeholder = format!("${{{k}}}");
        if text.contains(&placeholder) {
            used.insert(k.clone());
        }
        text = text.replace(&placeholder, v.as_str().unwrap());
    }
    assert!(!text.contains("${"), "every placeholder has a substitution");
    assert_eq!(
        used.len(),
        substitutions.as_object().unwrap().len(),
        "every substitution is used"
    );
    serde_json::from_str(&text).unwrap()
}

/// A JSONPath of the subset the definition uses (`$.a.b`, `$$.Execution.Name`).
fn path<'a>(root: &'a Value, context: &'a Value, p: &str) -> &'a Value {
    let (base, rest) = match p.strip_prefix("$$") {
        Some(rest) => (context, rest),
        None => (root, p.strip_prefix('$').unwrap()),
    };
    rest.split('.')
        .filter(|s| !s.is_empty())
        .fold(base, |v, k| &v[k])
}

/// Applies a `Parameters`-style template: `key.$` fields take the value at their path.
fn parameters(template: &Value, input: &Value, context: &Value) -> Value {
    match template {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| match k.strip_suffix(".$") {
                    Some(k) => (
                        k.to_string(),
                        path(input, context, v.as_str().unwrap()).clone(),
                    ),
                    None => (k.clone(), parameters(v, input, context)),
                })
                .collect(),
        ),
        other => other.clone(),
    }
}

/// The next state of a Choice state whose rules test `IsPresent` (what the definition uses).
fn choose<'a>(choice: &'a Value, state: &Value) -> &'a str {
    assert_eq!(choice["Type"], "Choice");
    for rule in choice["Choices"].as_array().unwrap() {
        let present = !path(state, state, rule["Variable"].as_str().unwrap()).is_null();
        if rule["IsPresent"].as_bool() == Some(present) {
            return rule["Next"].as_str().unwrap();
        }
    }
    choice["Default"].as_str().unwrap()
}

#[test]
fn the_state_machine_drives_the_scan_function_through_scan_merge_and_publish() {
    let t = template();
    let asl = definition(&t);
    let states = &asl["States"];
    let context = json!({"Execution": {"Name": "4f1c7a52-0c3c-4d53-9d6b-1b4f0b1c9a77", "StartTime": "2026-11-23T03:00:00.123Z"}});
    // Start, then LoadJobSpec with the job-spec parameter's value as SSM returns it.
    let mut state = parameters(&states["Start"]["Parameters"], &json!({}), &context);
    assert_eq!(states["Start"]["Next"], "LoadJobSpec");
    let load = &states["LoadJobSpec"];
    let spec_parameter = &resources(&t)["JobSpecParameter"]["Properties"];
    assert_eq!(
        load["Parameters"]["Name"],
        resolve(&t, &json!({"Ref": "JobSpecParameter"}))
    );
    let spec_text = resolve(&t, &spec_parameter["Value"]);
    let spec: Value = serde_json::from_str(spec_text.as_str().unwrap()).unwrap();
    dragnet_model::JobSpec::from_json(&spec.to_string()).expect("the deployed job spec is valid");
    assert_eq!(
        load["ResultSelector"]["JobSpec.$"],
        "States.StringToJson($.Parameter.Value)"
    );
    state["Job"] = json!({"JobSpec": spec});
    assert_eq!(load["ResultPath"], "$.Job");

    // Without an inventory in the execution input, the Distributed Map lists the bucket.
    let map = &states[choose(&states[load["Next"].as_str().unwrap()], &state)];
    assert_eq!(
        map["ItemProcessor"]["ProcessorConfig"]["Mode"],
        "DISTRIBUTED"
    );
    assert_eq!(
        map["ItemReader"]["Resource"],
        "arn:aws:states:::s3:listObjectsV2"
    );
    let bucket = map["ItemReader"]["Parameters"]["Bucket"].as_str().unwrap();
    assert_eq!(
        spec["s3JobDefinition"]["bucketDefinitions"][0]["buckets"][0],
        bucket
    );
    let batch_input = parameters(&map["ItemBatcher"]["BatchInput"], &state, &context);
    let task = &map["ItemProcessor"]["States"]["ScanBatch"];
    assert_eq!(
        task["Parameters"]["Payload.$"], "$",
        "the batch is the payload"
    );
    let function = task["Parameters"]["FunctionName"].clone();

    let dir = tempfile::tempdir().unwrap();
    let output_bucket = "resultsbucket-name";
    for b in [bucket, output_bucket] {
        std::fs::create_dir_all(dir.path().join(b)).unwrap();
    }
    let store = DirStore::new(dir.path());
    let objects = [
        (
            "hr/staff.csv",
            "name,ssn,card\nAnn Lee,536-22-1234,4532015112830366\nBo Chan,536-22-1235,4532015112830366\n",
        ),
        ("hr/one.csv", "name,ssn\nAnn Lee,536-22-1234\n"),
        ("ops/keys.txt", "aws_secret_access_key = Tq8mV2pR7sK4wX9zB3nL6cF1hJ5dG0yQ2eU8iO4a\n"),
        ("ops/notes.txt", "nothing sensitive\n"),
        ("hr/new hires.csv", "name,ssn\nBo Chan,536-22-1299\n"),
    ];
    for (key, text) in objects {
        store
            .put(bucket, key, &mut text.as_bytes(), &Default::default())
            .unwrap();
    }
    let scan_env = resolve(
        &t,
        &resources(&t)["ScanFunction"]["Properties"]["Environment"]["Variables"],
    );
    assert_eq!(function, json!("arn:aws:ScanFunction"));
    let env: BTreeMap<String, String> = scan_env
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string()))
        .collect();
    let settings =
        dragnet_lambda::scan::ScanSettings::from_env(|name| env.get(name).cloned()).unwrap();
    let mut items = Vec::new();
    store
        .list(bucket, "", &mut |m| {
            items.push(json!({"Key": m.key, "Size": m.size, "Etag": format!("\"{}\"", m.etag.unwrap_or_default()), "LastModified": 1_700_000_000, "StorageClass": "STANDARD"}))
        })
        .unwrap();
    let published = std::cell::RefCell::new(Vec::new());
    let publish = |events: &[Value]| {
        published.borrow_mut().extend(events.iter().cloned());
        events
            .iter()
            .map(|_| dragnet_events::eventbridge::Published::Accepted {
                event_id: "e".into(),
                attempts: 1,
            })
            .collect()
    };
    for chunk in items.chunks(2) {
        let batch = json!({"Items": chunk, "BatchInput": batch_input});
        dragnet_lambda::scan::handle_scan(&store, &settings, &publish, batch).unwrap();
    }

    // The merge, with the payload the definition builds.
    let merge = &states[map["Next"].as_str().unwrap()];
    assert_eq!(merge["Parameters"]["FunctionName"], function);
    let payload = parameters(&merge["Parameters"]["Payload"], &state, &context);
    let merged = dragnet_lambda::scan::handle_scan(&store, &settings, &publish, payload).unwrap();
    assert_eq!(merged["Batches"], 3);
    assert_eq!(merge["End"], true);

    // The findings reach the rules: High to the quarantine function and the SMS topic,
    // Low and Medium to the email topic.
    let events = published.borrow();
    let severities: BTreeSet<&str> = events
        .iter()
        .map(|e| e["detail"]["severity"]["description"].as_str().unwrap())
        .collect();
    assert!(
        severities.contains("High") && severities.len() > 1,
        "{severities:?}"
    );
    let rules: Vec<(&String, dragnet_events::EventPattern, Value)> =
        of_type(&t, "AWS::Events::Rule")
            .into_iter()
            .map(|(id, r)| {
                let p = resolve(&t, &r["Properties"]["EventPattern"]);
                (
                    id,
                    dragnet_events::EventPattern::compile(&p).unwrap(),
                    r["Properties"]["Targets"].clone(),
                )
            })
            .collect();
    for event in events.iter() {
        let severity = event["detail"]["severity"]["description"].as_str().unwrap();
        let matched: Vec<&str> = rules
            .iter()
            .filter(|(_, p, _)| p.matches(event))
            .map(|(id, _, _)| id.as_str())
            .collect();
        let expected = if severity == "High" {
            "HighFindingsRule"
        } else {
            "LowAndMediumFindingsRule"
        };
        assert!(matched.contains(&expected), "{severity}: {matched:?}");
    }
    let (_, _, high_targets) = rules
        .iter()
        .find(|(id, _, _)| id.as_str() == "HighFindingsRule")
        .unwrap();
    let quarantine = high_targets
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["Id"] == "quarantine")
        .unwrap();
    assert_eq!(quarantine["Arn"]["Fn::GetAtt"][0], "QuarantineFunction");
    assert!(quarantine["DeadLetterConfig"]["Arn"].is_object());
    assert!(
        quarantine.get("InputTransformer").is_none(),
        "the function takes the event"
    );
    drop(events);

    // With {"InventoryManifest": key} as the execution input, the map reads the report's rows
    // instead: strings, keys URL-encoded (CSV reports); the same objects, the same findings.
    let context =
        json!({"Execution": {"Name": "daily-from-inventory", "StartTime": "2026-11-24T03:00:00Z"}});
    let input = json!({"InventoryManifest": "inventory/databucket-name/dragnet-daily/2026-11-24T01-00Z/manifest.json"});
    let mut state = parameters(&states["Start"]["Parameters"], &input, &context);
    state["Job"] = json!({"JobSpec": spec});
    let map = &states[choose(&states["PlanFrom"], &state)];
    assert_eq!(
        map["ItemReader"]["Resource"],
        "arn:aws:states:::s3:getObject"
    );
    assert_eq!(map["ItemReader"]["ReaderConfig"]["InputType"], "MANIFEST");
    let reader = parameters(&map["ItemReader"]["Parameters"], &state, &context);
    assert_eq!(reader["Key"], input["InventoryManifest"]);
    assert_eq!(
        reader["Bucket"], output_bucket,
        "inventory reports land in the results bucket"
    );
    let inventory = &resources(&t)["DataBucket"]["Properties"]["InventoryConfigurations"][0];
    assert_eq!(inventory["Destination"]["Format"], "CSV");
    let batch_input = parameters(&map["ItemBatcher"]["BatchInput"], &state, &context);
    let mut rows = Vec::new();
    store
        .list(bucket, "", &mut |m| {
            rows.push(json!({"Bucket": bucket, "Key": m.key.replace(' ', "%20"), "Size": m.size.to_string(), "LastModifiedDate": "2026-11-23T10:00:00.000Z", "ETag": m.etag.unwrap_or_default(), "StorageClass": "STANDARD"}))
        })
        .unwrap();
    for chunk in rows.chunks(3) {
        let batch = json!({"Items": chunk, "BatchInput": batch_input});
        dragnet_lambda::scan::handle_scan(&store, &settings, &publish, batch).unwrap();
    }
    let payload = parameters(
        &states["MergeAndPublish"]["Parameters"]["Payload"],
        &state,
        &context,
    );
    let from_inventory =
        dragnet_lambda::scan::handle_scan(&store, &settings, &publish, payload).unwrap();
    assert_eq!(from_inventory["Findings"], merged["Findings"]);
    assert_eq!(
        from_inventory["Statistics"]["objectsScanned"],
        merged["Statistics"]["objectsScanned"]
    );
}

/// The glibc versions an ELF binary's symbol versions name (`GLIBC_2.34` -> (2, 34)).
fn glibc_versions(binary: &[u8]) -> BTreeSet<(u32, u32)> {
    let needle = b"GLIBC_2.";
    let mut out = BTreeSet::new();
    let mut at = 0;
    while let Some(i) = binary[at..].windows(needle.len()).position(|w| w == needle) {
        let start = at + i + needle.len();
        let digits: String = binary[start..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .map(|b| *b as char)
            .collect();
        if let Ok(minor) = digits.parse() {
            out.insert((2, minor));
        }
        at = start;
    }
    out
}

/// Run by `just package-lambda` after it builds the zips (ignored otherwise: building them
/// takes a release cross-build).
#[test]
#[ignore = "needs `just package-lambda` to have built the zips"]
fn lambda_zips_hold_an_al2023_bootstrap() {
    let t = template();
    for (id, function) in of_type(&t, "AWS::Serverless::Function") {
        let p = &function["Properties"];
        assert_eq!(p["Runtime"], "provided.al2023", "{id}");
        assert_eq!(p["Architectures"], json!(["x86_64"]), "{id}");
        let uri = p["CodeUri"].as_str().unwrap();
        let zip_path = repo().join("deploy/aws").join(uri);
        let file = std::fs::File::open(&zip_path)
            .unwrap_or_else(|e| panic!("{id}: {}: {e}", zip_path.display()));
        let mut archive = zip::ZipArchive::new(file).unwrap();
        assert_eq!(archive.len(), 1, "{id}: only bootstrap");
        let mut entry = archive.by_name("bootstrap").unwrap();
        let mode = entry.unix_mode().unwrap_or(0);
        assert_eq!(
            mode & 0o111,
            0o111,
            "{id}: bootstrap is executable ({mode:o})"
        );
        let mut binary = Vec::new();
        std::io::Read::read_to_end(&mut entry, &mut binary).unwrap();
        assert_eq!(&binary[..4], b"\x7fELF", "{id}: an ELF executable");
        assert_eq!(binary[4], 2, "{id}: 64-bit");
        let machine = u16::from_le_bytes([binary[18], binary[19]]);
        assert_eq!(machine, 0x3e, "{id}: x86-64, as Architectures says");
        let newest = glibc_versions(&binary).into_iter().max();
        assert!(
            newest.is_some_and(|v| v <= (2, 34)),
            "{id}: needs glibc {newest:?}; Amazon Linux 2023 has 2.34"
        );
    }
}
