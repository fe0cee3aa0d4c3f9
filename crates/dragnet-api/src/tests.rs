//! The router over an in-memory backend: every endpoint with every role, paging, filters,
//! reveal and its audit, limits, and the console's role checks. The real backend (job store,
//! object store, scan engine) is tested end to end in the binary's `tests/api.rs`.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::http::{Request, StatusCode};
use dragnet_findings::{Investigation, Role};
use dragnet_job::{StoredFinding, TokenRecord};
use dragnet_model::Timestamp;
use http_body_util::BodyExt;
use serde_json::{json, Value};
use tower::ServiceExt;

use crate::{new_token, router, ApiOptions, Backend, BackendError, RevealError};

const SECRET_VALUE: &str = "536-22-1234";

#[derive(Default)]
struct Memory {
    tokens: Mutex<Vec<TokenRecord>>,
    findings: Vec<StoredFinding>,
    jobs: Mutex<BTreeMap<String, String>>,
    audit: Mutex<Vec<Value>>,
    runs_requested: Mutex<Vec<String>>,
    restored: Mutex<Vec<String>>,
    /// Findings whose object "changed" since the scan.
    changed: Vec<String>,
}

fn finding(id: &str, severity: &str, bucket: &str, created: &str) -> StoredFinding {
    StoredFinding {
        run_id: "r1".into(),
        job_id: "j1".into(),
        bucket: bucket.into(),
        key: format!("{id}.csv"),
        finding: json!({
            "id": id,
            "type": "SensitiveData:S3Object/Personal",
            "createdAt": created,
            "severity": {"description": severity, "score": match severity { "High" => 3, "Medium" => 2, _ => 1 }},
            "resourcesAffected": {"s3Bucket": {"name": bucket}, "s3Object": {"key": format!("{id}.csv"), "path": format!("{bucket}/{id}.csv"), "eTag": "e"}},
            "classificationDetails": {"jobId": "j1", "result": {"sensitiveData": [{"category": "PERSONAL_INFORMATION", "detections": [
                {"type": "USA_SOCIAL_SECURITY_NUMBER", "count": 1, "occurrences": {"cells": [{"row": 2, "column": 3, "columnName": "ssn"}]}}
            ]}]}}
        }),
    }
}

impl Backend for Memory {
    fn token(&self, hash: &str) -> Result<Option<TokenRecord>, BackendError> {
        Ok(self
            .tokens
            .lock()
            .unwrap()
            .iter()
            .find(|t| t.hash == hash)
            .cloned())
    }
    fn tokens(&self) -> Result<Vec<TokenRecord>, BackendError> {
        Ok(self.tokens.lock().unwrap().clone())
    }
    fn create_token(&self, token: &TokenRecord) -> Result<(), BackendError> {
        self.tokens.lock().unwrap().push(token.clone());
        Ok(())
    }
    fn revoke_token(&self, token_id: &str) -> Result<bool, BackendError> {
        let mut tokens = self.tokens.lock().unwrap();
        match tokens.iter_mut().find(|t| t.token_id == token_id) {
            Some(t) => {
                t.revoked_at = Some(Timestamp::from_millis(1));
                Ok(true)
            }
            None => Ok(false),
        }
    }
    fn findings(&self) -> Result<Vec<StoredFinding>, BackendError> {
        Ok(self.findings.clone())
    }
    fn finding(&self, finding_id: &str) -> Result<Option<StoredFinding>, BackendError> {
        Ok(self
            .findings
            .iter()
            .find(|f| f.finding["id"] == finding_id)
            .cloned())
    }
    fn jobs(&self) -> Result<Vec<Value>, BackendError> {
        let jobs = self.jobs.lock().unwrap();
        Ok(jobs
            .iter()
            .map(|(id, status)| json!({"jobId": id, "name": id, "jobStatus": status}))
            .collect())
    }
    fn job(&self, job_id: &str) -> Result<Value, BackendError> {
        let jobs = self.jobs.lock().unwrap();
        let status = jobs
            .get(job_id)
            .ok_or_else(|| BackendError::NotFound(format!("job {job_id} does not exist")))?;
        Ok(json!({"jobId": job_id, "jobStatus": status}))
    }
    fn update_job(&self, job_id: &str, status: &str) -> Result<Value, BackendError> {
        let mut jobs = self.jobs.lock().unwrap();
        let current = jobs
            .get_mut(job_id)
            .ok_or_else(|| BackendError::NotFound(format!("job {job_id} does not exist")))?;
        if current == "CANCELLED" {
            return Err(BackendError::Conflict("job is CANCELLED".into()));
        }
        *current = status.to_string();
        Ok(json!({"jobId": job_id, "jobStatus": status}))
    }
    fn request_run(&self, job_id: &str) -> Result<Value, BackendError> {
        self.job(job_id)?;
        self.runs_requested.lock().unwrap().push(job_id.into());
        Ok(json!({"jobId": job_id, "status": "QUEUED"}))
    }
    fn quarantine_records(&self) -> Result<Vec<Value>, BackendError> {
        Ok(vec![
            json!({"findingId": "f1", "source": {"bucket": "lake", "key": "f1.csv"}}),
        ])
    }
    fn quarantine_failures(&self) -> Result<Vec<Value>, BackendError> {
        Ok(vec![
            json!({"id": "f2", "time": "2026-11-22T09:00:00.000Z", "rule": "high", "error": "AccessDenied", "bucket": "lake", "key": "f2.csv"}),
            json!({"id": "f3", "time": "2026-11-22T11:00:00.000Z", "rule": "high", "error": "NoSuchBucket", "bucket": "raw", "key": "f3.csv"}),
        ])
    }
    fn restore(&self, finding_id: &str) -> Result<Value, BackendError> {
        self.restored.lock().unwrap().push(finding_id.into());
        Ok(json!({"findingId": finding_id, "restored": true}))
    }
    fn reveal(
        &self,
        finding: &StoredFinding,
        _reads_isolation: bool,
        per_type: usize,
    ) -> Result<BTreeMap<String, Vec<String>>, RevealError> {
        let id = finding.finding["id"].as_str().unwrap_or("");
        if self.changed.iter().any(|c| c == id) {
            return Err(RevealError::ObjectChanged(format!(
                "s3://{}/{} changed since the scan",
                finding.bucket, finding.key
            )));
        }
        let mut values: Vec<String> = (0..12).map(|i| format!("536-22-{:04}", 1234 + i)).collect();
        values.truncate(per_type);
        Ok(BTreeMap::from([
            ("USA_SOCIAL_SECURITY_NUMBER".to_string(), values),
            ("NOT_IN_THE_FINDING".to_string(), vec!["x".into()]),
        ]))
    }
    fn investigations(&self) -> Vec<Investigation> {
        dragnet_findings::investigations::merged(&[])
    }
    fn audit(&self, record: &Value) -> Result<(), BackendError> {
        self.audit.lock().unwrap().push(record.clone());
        Ok(())
    }
    fn health(&self) -> Value {
        json!({"status": "ok"})
    }
    fn now(&self) -> Timestamp {
        Timestamp::parse("2026-11-22T12:00:00Z").unwrap()
    }
}

struct Fixture {
    backend: Arc<Memory>,
    app: axum::Router,
    secrets: BTreeMap<Role, String>,
}

fn fixture_with(options: ApiOptions) -> Fixture {
    let memory = Memory {
        findings: vec![
            finding("f1", "High", "lake", "2026-11-22T10:00:00.000Z"),
            finding("f2", "Low", "lake", "2026-11-20T10:00:00.000Z"),
            finding("f3", "Medium", "raw", "2026-11-21T10:00:00.000Z"),
            finding("f4", "High", "raw", "2026-11-19T10:00:00.000Z"),
        ],
        changed: vec!["f4".into()],
        ..Memory::default()
    };
    memory
        .jobs
        .lock()
        .unwrap()
        .insert("j1".into(), "IDLE".into());
    let mut secrets = BTreeMap::new();
    for role in Role::ALL {
        let t = new_token(role.as_str(), role, false, Timestamp::from_millis(0)).unwrap();
        memory.tokens.lock().unwrap().push(t.record);
        secrets.insert(role, t.secret);
    }
    let backend = Arc::new(memory);
    let app = router(backend.clone(), options);
    Fixture {
        backend,
        app,
        secrets,
    }
}

fn fixture() -> Fixture {
    fixture_with(ApiOptions::default())
}

impl Fixture {
    async fn call(
        &self,
        method: &str,
        uri: &str,
        token: Option<&str>,
        body: &str,
    ) -> (StatusCode, Value) {
        let (status, text) = self.raw(method, uri, token, body).await;
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    async fn raw(
        &self,
        method: &str,
        uri: &str,
        token: Option<&str>,
        body: &str,
    ) -> (StatusCode, String) {
        let mut req = Request::builder().method(method).uri(uri);
        if let Some(t) = token {
            req = req.header("authorization", format!("Bearer {t}"));
        }
        let response = self
            .app
            .clone()
            .oneshot(req.body(Body::from(body.to_string())).unwrap())
            .await
            .unwrap();
        let status = response.status();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        (status, String::from_utf8_lossy(&bytes).into_owned())
    }

    async fn as_role(
        &self,
        role: Role,
        method: &str,
        uri: &str,
        body: &str,
    ) -> (StatusCode, Value) {
        self.call(method, uri, Some(&self.secrets[&role].clone()), body)
            .await
    }
}

/// Every endpoint with the least role it needs.
fn endpoints() -> Vec<(&'static str, &'static str, &'static str, Role)> {
    vec![
        ("GET", "/whoami", "", Role::Viewer),
        ("POST", "/jobs/list", "{}", Role::Viewer),
        ("GET", "/jobs/j1", "", Role::Viewer),
        ("POST", "/findings", "{}", Role::Viewer),
        (
            "POST",
            "/findings/describe",
            r#"{"findingIds": ["f1"]}"#,
            Role::Viewer,
        ),
        (
            "POST",
            "/findings/statistics",
            r#"{"groupBy": "type"}"#,
            Role::Viewer,
        ),
        ("GET", "/quarantine", "", Role::Viewer),
        ("GET", "/quarantine/failures", "", Role::Viewer),
        ("GET", "/investigations", "", Role::Viewer),
        (
            "POST",
            "/investigations/high-last-24h/run",
            "{}",
            Role::Viewer,
        ),
        ("GET", "/findings/f1/reveal", "", Role::Investigator),
        (
            "PATCH",
            "/jobs/j1",
            r#"{"jobStatus": "USER_PAUSED"}"#,
            Role::Operator,
        ),
        ("POST", "/jobs/j1/run", "", Role::Operator),
        ("POST", "/quarantine/f1/restore", "", Role::Operator),
        ("GET", "/tokens", "", Role::Admin),
        (
            "POST",
            "/tokens",
            r#"{"name": "new", "role": "viewer"}"#,
            Role::Admin,
        ),
    ]
}

fn allowed(role: Role, least: Role) -> bool {
    match least {
        Role::Viewer => true,
        Role::Investigator => matches!(role, Role::Investigator | Role::Admin),
        Role::Operator => matches!(role, Role::Operator | Role::Admin),
        Role::Admin => role == Role::Admin,
    }
}

#[tokio::test]
async fn every_endpoint_checks_every_role() {
    for (method, uri, body, least) in endpoints() {
        for role in Role::ALL {
            // A fresh backend each time, so state changes (pause) do not leak between calls.
            let f = fixture();
            let (status, answer) = f.as_role(role, method, uri, body).await;
            if allowed(role, least) {
                assert!(
                    status.is_success(),
                    "{role} {method} {uri}: {status} {answer}"
                );
            } else {
                assert_eq!(status, StatusCode::FORBIDDEN, "{role} {method} {uri}");
                assert_eq!(
                    answer,
                    json!({"message": "your role does not allow this action"})
                );
            }
        }
    }
}

#[tokio::test]
async fn missing_unknown_and_revoked_tokens_get_401_without_detail() {
    let f = fixture();
    let viewer = f.secrets[&Role::Viewer].clone();
    let admin = f.secrets[&Role::Admin].clone();
    let viewer_id = f.backend.tokens.lock().unwrap()[0].token_id.clone();
    let (status, _) = f
        .call("DELETE", &format!("/tokens/{viewer_id}"), Some(&admin), "")
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    for (method, uri, body, _) in
        endpoints()
            .into_iter()
            .chain([("DELETE", "/tokens/x", "", Role::Admin)])
    {
        for token in [None, Some("dgn_not-a-token"), Some(viewer.as_str())] {
            let (status, answer) = f.call(method, uri, token, body).await;
            assert_eq!(status, StatusCode::UNAUTHORIZED, "{method} {uri} {token:?}");
            assert_eq!(answer, json!({"message": "authentication required"}));
        }
    }
    // Health stays open for probes.
    assert_eq!(f.call("GET", "/health", None, "").await.0, StatusCode::OK);
}

#[tokio::test]
async fn list_findings_filters_sorts_and_pages() {
    let f = fixture();
    let body = r#"{"findingCriteria": {"criterion": {"resourcesAffected.s3Bucket.name": {"eq": ["lake", "raw"]}, "severity.description": {"neq": ["Low"]}}}, "sortCriteria": {"attributeName": "createdAt", "orderBy": "ASC"}, "maxResults": 2}"#;
    let (status, first) = f.as_role(Role::Viewer, "POST", "/findings", body).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(first["findingIds"], json!(["f4", "f3"]));
    let token = first["nextToken"].as_str().unwrap();
    let next = body.replace(
        "\"maxResults\": 2",
        &format!("\"maxResults\": 2, \"nextToken\": \"{token}\""),
    );
    let (_, second) = f.as_role(Role::Viewer, "POST", "/findings", &next).await;
    assert_eq!(second["findingIds"], json!(["f1"]));
    assert_eq!(second["nextToken"], Value::Null);
    let (_, described) = f
        .as_role(
            Role::Viewer,
            "POST",
            "/findings/describe",
            r#"{"findingIds": ["f3", "f1"]}"#,
        )
        .await;
    let ids: Vec<&str> = described["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["f3", "f1"]);
    let (_, stats) = f
        .as_role(
            Role::Viewer,
            "POST",
            "/findings/statistics",
            r#"{"groupBy": "severity.description"}"#,
        )
        .await;
    assert_eq!(
        stats["countsByGroup"][0],
        json!({"groupKey": "High", "count": 2})
    );
}

#[tokio::test]
async fn bad_requests_are_400_and_name_the_field() {
    let f = fixture();
    let cases = [
        ("/findings", r#"{"maxResults": 500}"#, "maxResults"),
        (
            "/findings",
            r#"{"findingCriteria": {"criterion": {"type": {"like": ["x"]}}}}"#,
            "findingCriteria.criterion.type.like",
        ),
        (
            "/findings",
            r#"{"sortCriteria": {"attributeName": 5}}"#,
            "sortCriteria.attributeName",
        ),
        ("/findings", r#"{"findingCriteria": "#, "EOF while parsing"),
        ("/findings", r#"{"maxResult": 5}"#, "maxResult"),
        ("/findings/describe", r#"{}"#, "findingIds"),
        (
            "/findings/statistics",
            r#"{"groupBy": "resourcesAffected.s3Object.key"}"#,
            "groupBy",
        ),
    ];
    for (uri, body, field) in cases {
        let (status, answer) = f.as_role(Role::Viewer, "POST", uri, body).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{uri} {body}");
        assert!(
            answer["message"].as_str().unwrap().contains(field),
            "{answer}"
        );
    }
    let (status, _) = f
        .as_role(
            Role::Operator,
            "PATCH",
            "/jobs/j1",
            r#"{"jobStatus": "DONE"}"#,
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = f
        .as_role(
            Role::Admin,
            "POST",
            "/tokens",
            r#"{"name": "x", "role": "root"}"#,
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn oversized_bodies_are_refused() {
    let f = fixture_with(ApiOptions {
        max_body_bytes: 1024,
        ..ApiOptions::default()
    });
    let big = format!(r#"{{"findingIds": ["{}"]}}"#, "a".repeat(4096));
    let (status, _) = f
        .as_role(Role::Viewer, "POST", "/findings/describe", &big)
        .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
}

#[tokio::test]
async fn reveal_returns_values_to_investigators_only_and_audits_without_them() {
    let f = fixture();
    let (status, answer) = f
        .as_role(Role::Investigator, "GET", "/findings/f1/reveal", "")
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(answer["status"], "SUCCESS");
    let values = answer["sensitiveDataOccurrences"]["USA_SOCIAL_SECURITY_NUMBER"]
        .as_array()
        .unwrap();
    assert_eq!(values.len(), 10, "at most 10 values per type");
    assert_eq!(values[0], json!({"value": SECRET_VALUE}));
    assert!(
        answer["sensitiveDataOccurrences"]
            .get("NOT_IN_THE_FINDING")
            .is_none(),
        "only the finding's types"
    );

    let (status, _) = f
        .as_role(Role::Viewer, "GET", "/findings/f1/reveal", "")
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, answer) = f
        .as_role(Role::Investigator, "GET", "/findings/f4/reveal", "")
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        answer["message"]
            .as_str()
            .unwrap()
            .starts_with("OBJECT_UNAVAILABLE"),
        "{answer}"
    );
    let (status, _) = f
        .as_role(Role::Investigator, "GET", "/findings/nope/reveal", "")
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let audit = f.backend.audit.lock().unwrap().clone();
    let outcomes: Vec<(&str, &str)> = audit
        .iter()
        .map(|r| {
            (
                r["role"].as_str().unwrap(),
                r["outcome"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(
        outcomes,
        [
            ("investigator", "SUCCESS"),
            ("viewer", "DENIED"),
            ("investigator", "ERROR")
        ]
    );
    assert_eq!(audit[0]["action"], "GetSensitiveDataOccurrences");
    assert_eq!(audit[0]["findingId"], "f1");
    assert_eq!(audit[0]["types"], json!(["USA_SOCIAL_SECURITY_NUMBER"]));
    assert_eq!(
        audit[0]["valuesReturned"],
        json!({"USA_SOCIAL_SECURITY_NUMBER": 10})
    );
    let text = serde_json::to_string(&audit).unwrap();
    assert!(
        !text.contains("536-22-"),
        "the audit log never holds a value: {text}"
    );
}

#[tokio::test]
async fn reveals_are_rate_limited_per_token() {
    let f = fixture_with(ApiOptions {
        reveals_per_minute: 2,
        ..ApiOptions::default()
    });
    for _ in 0..2 {
        assert_eq!(
            f.as_role(Role::Investigator, "GET", "/findings/f1/reveal", "")
                .await
                .0,
            StatusCode::OK
        );
    }
    let (status, answer) = f
        .as_role(Role::Investigator, "GET", "/findings/f1/reveal", "")
        .await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert!(answer["message"]
        .as_str()
        .unwrap()
        .contains("2 reveals per minute"));
    assert_eq!(
        f.as_role(Role::Admin, "GET", "/findings/f1/reveal", "")
            .await
            .0,
        StatusCode::OK,
        "per token"
    );
}

#[tokio::test]
async fn operators_control_jobs_and_quarantine_with_an_audit_trail() {
    let f = fixture();
    let (_, job) = f
        .as_role(
            Role::Operator,
            "PATCH",
            "/jobs/j1",
            r#"{"jobStatus": "CANCELLED"}"#,
        )
        .await;
    assert_eq!(job["jobStatus"], "CANCELLED");
    let (status, _) = f
        .as_role(
            Role::Operator,
            "PATCH",
            "/jobs/j1",
            r#"{"jobStatus": "RUNNING"}"#,
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    let (status, queued) = f.as_role(Role::Operator, "POST", "/jobs/j1/run", "").await;
    assert_eq!(
        (status, queued["status"].as_str()),
        (StatusCode::ACCEPTED, Some("QUEUED"))
    );
    assert_eq!(*f.backend.runs_requested.lock().unwrap(), ["j1"]);
    assert_eq!(
        f.as_role(Role::Operator, "GET", "/jobs/none", "").await.0,
        StatusCode::NOT_FOUND
    );
    f.as_role(Role::Operator, "POST", "/quarantine/f1/restore", "")
        .await;
    assert_eq!(*f.backend.restored.lock().unwrap(), ["f1"]);
    let actions: Vec<String> = f
        .backend
        .audit
        .lock()
        .unwrap()
        .iter()
        .map(|r| r["action"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        actions,
        [
            "UpdateClassificationJob",
            "RunClassificationJob",
            "RestoreQuarantinedObject"
        ]
    );
}

#[tokio::test]
async fn admins_create_tokens_that_are_shown_once_and_work() {
    let f = fixture();
    let (status, created) = f
        .as_role(
            Role::Admin,
            "POST",
            "/tokens",
            r#"{"name": "alice", "role": "investigator"}"#,
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let secret = created["token"].as_str().unwrap().to_string();
    let (_, me) = f.call("GET", "/whoami", Some(&secret), "").await;
    assert_eq!(
        (me["name"].as_str(), me["role"].as_str()),
        (Some("alice"), Some("investigator"))
    );
    let (_, listed) = f.as_role(Role::Admin, "GET", "/tokens", "").await;
    let text = listed.to_string();
    assert!(
        text.contains("alice") && !text.contains(&secret),
        "listings never show secrets"
    );
    assert!(!text.contains("hash"));
}

#[tokio::test]
async fn investigations_run_with_parameters() {
    let f = fixture();
    let (status, answer) = f
        .as_role(
            Role::Viewer,
            "POST",
            "/investigations/findings-in-bucket/run",
            r#"{"parameters": {"bucket": "raw"}}"#,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(answer["findingIds"], json!(["f4", "f3"]));
    let (status, answer) = f
        .as_role(
            Role::Viewer,
            "POST",
            "/investigations/findings-in-bucket/run",
            "{}",
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(answer["message"].as_str().unwrap().contains("bucket"));
    assert_eq!(
        f.as_role(Role::Viewer, "POST", "/investigations/nope/run", "{}")
            .await
            .0,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn the_console_signs_in_and_shows_reveal_only_to_investigators() {
    let f = fixture();
    // Signed out: every page sends you to sign in.
    let response = f
        .app
        .clone()
        .oneshot(
            Request::get("/console/findings")
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(response.headers()["location"], "/console/login");
    // A bad token is refused.
    let login = |token: &str| {
        Request::post("/console/login")
            .header("content-type", "application/x-www-form-urlencoded")
            .body(Body::from(format!("token={token}")))
            .unwrap()
    };
    let response = f.app.clone().oneshot(login("dgn_wrong")).await.unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    // A good one sets the session cookie.
    let response = f
        .app
        .clone()
        .oneshot(login(&f.secrets[&Role::Viewer]))
        .await
        .unwrap();
    let cookie = response.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"));
    let page = |role: Role, uri: &str, method: &str| {
        let cookie = format!("dragnet_token={}", f.secrets[&role]);
        let app = f.app.clone();
        let req = Request::builder()
            .method(method)
            .uri(uri)
            .header("cookie", cookie)
            .body(Body::empty())
            .unwrap();
        async move {
            let r = app.oneshot(req).await.unwrap();
            let status = r.status();
            let bytes = r.into_body().collect().await.unwrap().to_bytes();
            (status, String::from_utf8_lossy(&bytes).into_owned())
        }
    };
    let (_, viewer_page) = page(Role::Viewer, "/console/findings/f1", "GET").await;
    assert!(viewer_page.contains("row 2, column 3 (ssn)"));
    assert!(!viewer_page.contains("id=\"reveal\""));
    let (_, investigator_page) = page(Role::Investigator, "/console/findings/f1", "GET").await;
    assert!(investigator_page.contains("id=\"reveal\""));
    let (status, _) = page(Role::Viewer, "/console/findings/f1/reveal", "POST").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, revealed) = page(Role::Investigator, "/console/findings/f1/reveal", "POST").await;
    assert_eq!(status, StatusCode::OK);
    assert!(revealed.contains(SECRET_VALUE));
    let (_, filtered) = page(
        Role::Viewer,
        "/console/findings?bucket=raw&severity=High",
        "GET",
    )
    .await;
    assert!(filtered.contains("1 findings") && filtered.contains("raw/f4.csv"));
    let (_, dashboard) = page(Role::Viewer, "/console", "GET").await;
    assert!(dashboard.contains("id=\"by-severity\""));
    let (_, jobs) = page(Role::Viewer, "/console/jobs", "GET").await;
    assert!(
        !jobs.contains("class=\"pause\""),
        "viewers get no job controls"
    );
    let (status, _) = page(Role::Viewer, "/console/jobs/j1/pause", "POST").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = page(Role::Operator, "/console/jobs/j1/pause", "POST").await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(f.backend.jobs.lock().unwrap()["j1"], "USER_PAUSED");
}

#[test]
fn console_escapes_hostile_text() {
    let hostile = finding(
        "<script>",
        "High",
        "b\"><img src=x>",
        "2026-11-22T10:00:00.000Z",
    );
    let html = crate::console::findings_table(&[hostile.finding]);
    assert!(
        !html.contains("<script>") && !html.contains("<img"),
        "{html}"
    );
}

/// `docs/openapi.json` and the router describe the same operations.
#[tokio::test]
async fn the_openapi_document_lists_exactly_the_routes() {
    let spec: Value = serde_json::from_str(include_str!("../../../docs/openapi.json")).unwrap();
    let f = fixture();
    let mut documented = Vec::new();
    for (path, ops) in spec["paths"].as_object().unwrap() {
        for method in ops.as_object().unwrap().keys() {
            let method = method.to_uppercase();
            let uri = path
                .replace("{jobId}", "j1")
                .replace("{findingId}", "f1")
                .replace("{name}", "high-last-24h")
                .replace("{tokenId}", "tok");
            let (status, _) = f.call(&method, &uri, None, "").await;
            let expected = if path == "/health" {
                StatusCode::OK
            } else {
                StatusCode::UNAUTHORIZED
            };
            assert_eq!(
                status, expected,
                "{method} {path} is documented but not routed"
            );
            documented.push((method, path.clone()));
        }
    }
    let mut routed: Vec<(String, String)> = endpoints()
        .into_iter()
        .map(|(m, uri, _, _)| {
            let path = uri
                .replace("/jobs/j1", "/jobs/{jobId}")
                .replace("/findings/f1", "/findings/{findingId}")
                .replace("/quarantine/f1", "/quarantine/{findingId}")
                .replace("/investigations/high-last-24h", "/investigations/{name}");
            (m.to_string(), path)
        })
        .collect();
    routed.push(("GET".into(), "/health".into()));
    routed.push(("DELETE".into(), "/tokens/{tokenId}".into()));
    routed.sort();
    documented.sort();
    assert_eq!(documented, routed);
}
