//! Table tests for the pattern matcher, including the operator examples from EventBridge's
//! user guide (event: the EC2 instance state-change example with its extra fields).

use serde_json::{json, Value};

use crate::pattern::EventPattern;

fn doc_event() -> Value {
    json!({
        "version": "0",
        "id": "6a7e8feb-b491-4cf7-a9f1-bf3703467718",
        "detail-type": "EC2 Instance State-change Notification",
        "source": "aws.ec2",
        "account": "111122223333",
        "time": "2017-12-22T18:43:48Z",
        "region": "us-west-1",
        "resources": [
            "arn:aws:ec2:us-west-1:123456789012:instance/i-1234567890abcdef0",
            "arn:aws:ec2:us-west-1:123456789012:image/ami-0123"
        ],
        "detail": {
            "instance-id": "i-1234567890abcdef0",
            "state": "terminated",
            "c-count": 5,
            "d-count": 3,
            "x-limit": 301.8,
            "source-ip": "10.0.0.33",
            "source-ipv6": "2001:db8::1",
            "responseElements": null,
            "eventVersion": "",
            "flag": true,
            "employees": [{"firstName": "John", "lastName": "Doe"}, {"firstName": "Anna", "lastName": "Smith"}],
            "tags": ["prod", "pii"]
        }
    })
}

fn check(pattern: Value, expected: bool) {
    let p = EventPattern::compile(&pattern).unwrap_or_else(|e| panic!("{pattern}: {e}"));
    assert_eq!(p.matches(&doc_event()), expected, "{pattern}");
}

#[test]
fn exact_values_arrays_and_nesting() {
    check(json!({"source": ["aws.ec2"]}), true);
    check(json!({"source": ["aws.EC2"]}), false);
    check(json!({"source": ["aws.s3", "aws.ec2"]}), true);
    check(
        json!({"source": ["aws.ec2"], "detail-type": ["nope"]}),
        false,
    );
    check(json!({"detail": {"state": ["terminated"]}}), true);
    check(json!({"detail": {"state": ["running", "pending"]}}), false);
    check(
        json!({"resources": ["arn:aws:ec2:us-west-1:123456789012:image/ami-0123"]}),
        true,
    );
    check(json!({"detail": {"tags": ["pii"]}}), true);
    check(json!({"detail": {"missing": ["x"]}}), false);
    check(json!({"detail": {"c-count": [5]}}), true);
    check(json!({"detail": {"c-count": [5.0]}}), false);
    check(json!({"detail": {"flag": [true]}}), true);
    check(json!({"detail": {"flag": ["true"]}}), false);
}

#[test]
fn null_and_empty_string_are_distinct() {
    check(json!({"detail": {"responseElements": [null]}}), true);
    check(json!({"detail": {"responseElements": [""]}}), false);
    check(json!({"detail": {"eventVersion": [""]}}), true);
    check(json!({"detail": {"eventVersion": [null]}}), false);
}

#[test]
fn arrays_of_objects_do_not_mix_elements() {
    check(
        json!({"detail": {"employees": {"firstName": ["Anna"]}}}),
        true,
    );
    check(
        json!({"detail": {"employees": {"firstName": ["Anna"], "lastName": ["Smith"]}}}),
        true,
    );
    check(
        json!({"detail": {"employees": {"firstName": ["Anna"], "lastName": ["Doe"]}}}),
        false,
    );
}

#[test]
fn prefix_suffix_and_ignore_case() {
    check(json!({"time": [{"prefix": "2017-12-22"}]}), true);
    check(json!({"source": [{"prefix": "aws."}]}), true);
    check(json!({"source": [{"prefix": "AWS."}]}), false);
    check(
        json!({"source": [{"prefix": {"equals-ignore-case": "AWS."}}]}),
        true,
    );
    check(
        json!({"detail": {"instance-id": [{"suffix": "def0"}]}}),
        true,
    );
    check(
        json!({"detail": {"instance-id": [{"suffix": {"equals-ignore-case": "DEF0"}}]}}),
        true,
    );
    check(
        json!({"detail": {"instance-id": [{"suffix": "DEF0"}]}}),
        false,
    );
    check(
        json!({"detail-type": [{"equals-ignore-case": "ec2 instance state-change notification"}]}),
        true,
    );
    check(json!({"detail": {"c-count": [{"prefix": "5"}]}}), false);
}

#[test]
fn wildcard() {
    check(
        json!({"detail-type": [{"wildcard": "EC2*Notification"}]}),
        true,
    );
    check(
        json!({"resources": [{"wildcard": "arn:aws:ec2:us-west-1:*:instance/*"}]}),
        true,
    );
    check(json!({"source": [{"wildcard": "aws.s*"}]}), false);
    check(json!({"source": [{"wildcard": "*"}]}), true);
    let star = EventPattern::compile(&json!({"a": [{"wildcard": "x\\*y"}]})).unwrap();
    assert!(star.matches(&json!({"a": "x*y"})));
    assert!(!star.matches(&json!({"a": "xzy"})));
}

#[test]
fn anything_but() {
    check(
        json!({"detail": {"state": [{"anything-but": "initializing"}]}}),
        true,
    );
    check(
        json!({"detail": {"state": [{"anything-but": "terminated"}]}}),
        false,
    );
    check(
        json!({"detail": {"state": [{"anything-but": ["stopped", "terminated"]}]}}),
        false,
    );
    check(
        json!({"detail": {"x-limit": [{"anything-but": [100, 200, 300]}]}}),
        true,
    );
    check(json!({"detail": {"c-count": [{"anything-but": 5}]}}), false);
    check(
        json!({"detail": {"state": [{"anything-but": {"prefix": "init"}}]}}),
        true,
    );
    check(
        json!({"detail": {"state": [{"anything-but": {"prefix": "term"}}]}}),
        false,
    );
    check(
        json!({"detail": {"state": [{"anything-but": {"suffix": "ated"}}]}}),
        false,
    );
    check(
        json!({"detail": {"state": [{"anything-but": {"equals-ignore-case": ["TERMINATED"]}}]}}),
        false,
    );
    check(
        json!({"detail": {"state": [{"anything-but": {"wildcard": "*nat*"}}]}}),
        false,
    );
    check(
        json!({"detail": {"state": [{"anything-but": {"wildcard": "run*"}}]}}),
        true,
    );
    check(
        json!({"detail": {"missing": [{"anything-but": "x"}]}}),
        false,
    );
}

#[test]
fn numeric_ranges() {
    check(
        json!({"detail": {"c-count": [{"numeric": [">", 0, "<=", 5]}], "d-count": [{"numeric": ["<", 10]}], "x-limit": [{"numeric": ["=", 3.018e2]}]}}),
        true,
    );
    check(
        json!({"detail": {"c-count": [{"numeric": [">", 5]}]}}),
        false,
    );
    check(
        json!({"detail": {"c-count": [{"numeric": [">=", 5]}]}}),
        true,
    );
    check(json!({"detail": {"state": [{"numeric": [">", 0]}]}}), false);
}

#[test]
fn cidr_and_exists() {
    check(
        json!({"detail": {"source-ip": [{"cidr": "10.0.0.0/24"}]}}),
        true,
    );
    check(
        json!({"detail": {"source-ip": [{"cidr": "10.0.1.0/24"}]}}),
        false,
    );
    check(
        json!({"detail": {"source-ipv6": [{"cidr": "2001:db8::/32"}]}}),
        true,
    );
    check(json!({"detail": {"state": [{"exists": true}]}}), true);
    check(json!({"detail": {"state": [{"exists": false}]}}), false);
    check(json!({"detail": {"nothing": [{"exists": false}]}}), true);
    check(json!({"detail": {"employees": [{"exists": false}]}}), false);
    check(json!({"nothing": {"deeper": [{"exists": false}]}}), true);
    check(
        json!({"detail": {"responseElements": [{"exists": true}]}}),
        true,
    );
}

#[test]
fn or_combines_with_and() {
    check(
        json!({"detail": {"$or": [{"c-count": [{"numeric": [">", 10]}]}, {"d-count": [{"numeric": ["<", 10]}]}]}}),
        true,
    );
    check(
        json!({"detail": {"$or": [{"c-count": [{"numeric": [">", 10]}]}, {"d-count": [{"numeric": [">", 10]}]}]}}),
        false,
    );
    check(
        json!({"source": ["aws.ec2"], "$or": [{"region": ["us-east-1"]}, {"detail": {"state": ["terminated"]}}]}),
        true,
    );
    check(
        json!({"source": ["aws.s3"], "$or": [{"region": ["us-west-1"]}, {"detail": {"state": ["terminated"]}}]}),
        false,
    );
}

#[test]
fn invalid_patterns_name_the_offending_part() {
    let e = |p: Value| EventPattern::compile(&p).unwrap_err().to_string();
    assert_eq!(
        e(json!({"source": "aws.ec2"})),
        r#"source: leaf values must be arrays, e.g. ["aws.ec2"]"#
    );
    assert!(e(json!({"detail": {"state": []}})).starts_with("detail.state: an empty array"));
    assert!(e(json!({"detail": {"state": [{"prefx": "a"}]}}))
        .starts_with("detail.state[0]: unknown operator \"prefx\""));
    assert!(
        e(json!({"a": [{"numeric": [">", "five"]}]})).starts_with("a[0]: numeric needs a number")
    );
    assert!(e(json!({"a": [{"numeric": [">", 1, ">", 2]}]})).contains("one lower bound"));
    assert!(e(json!({"a": [{"wildcard": "a**b"}]})).contains("consecutive *"));
    assert!(e(json!({"a": [{"wildcard": "a\\b"}]})).contains("escapes"));
    assert!(e(json!({"a": [{"cidr": "10.0.0.0/33"}]})).contains("not a CIDR"));
    assert!(e(json!({"a": [{"anything-but": ["x", 1]}]})).contains("all strings or all numbers"));
    assert!(e(json!({"a": [{"exists": "yes"}]})).contains("exists takes true or false"));
    assert!(e(json!({"$or": [{"a": ["x"]}]})).contains("at least two"));
    assert!(e(json!(["x"])).contains("must be a JSON object"));
    assert!(e(json!({})).contains("at least one field"));
    let mut big = serde_json::Map::new();
    for i in 0..4 {
        big.insert(
            format!("f{i}"),
            json!({"$or": (0..6).map(|j| json!({format!("x{j}"): ["v"]})).collect::<Vec<_>>()}),
        );
    }
    assert!(e(Value::Object(big)).contains("combinations"));
}
