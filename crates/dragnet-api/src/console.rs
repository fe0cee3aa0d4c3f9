//! The console: server-rendered HTML pages over the same handlers as the API, with no
//! JavaScript at all (so nothing to vendor and nothing loaded from a CDN).
//!
//! Signing in posts a token, which is kept in an `HttpOnly`, `SameSite=Strict` cookie; the
//! `SameSite=Strict` cookie is also what keeps other sites from posting the console's forms
//! (pause a job, reveal) on a signed-in user's behalf. Every page checks the role exactly as
//! the API does, and values appear only on the page that answers an investigator's reveal.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Arc;

use axum::extract::{Form, Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use dragnet_findings::criteria::values_at;
use dragnet_findings::{list_findings, statistics, Action, ListRequest, StatisticsRequest};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::auth::{caller, hash_token, Caller, COOKIE};
use crate::routes::{
    all_findings, authenticate, blocking, detection_types, reveal_for, run_investigation,
};
use crate::{ApiError, AppState};

type Shared = State<Arc<AppState>>;

/// The console's routes, under `/console`.
pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/", get(|| async { Redirect::to("/console") }))
        .route("/console", get(dashboard))
        .route("/console/login", get(login_page).post(login))
        .route("/console/logout", post(logout))
        .route("/console/findings", get(findings_page))
        .route("/console/findings/{finding_id}", get(finding_page))
        .route("/console/findings/{finding_id}/reveal", post(reveal_page))
        .route("/console/jobs", get(jobs_page))
        .route("/console/jobs/{job_id}/{action}", post(job_action))
        .route("/console/investigations", get(investigations_page))
        .route("/console/investigations/{name}", get(investigation_page))
}

/// HTML-escapes text taken from findings, keys, tags or the request.
fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Percent-encodes a path segment or query value.
fn url(text: &str) -> String {
    let mut out = String::new();
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// The text at dotted `path` in `v`, HTML-escaped (empty when absent).
fn field(v: &Value, path: &str) -> String {
    let at = path.split('.').fold(v, |cur, step| &cur[step]);
    esc(at.as_str().unwrap_or(""))
}

/// A table with `headers` and one row per item, whose cells (HTML) `cells` makes.
fn table<T>(
    attributes: &str,
    headers: &[&str],
    items: impl IntoIterator<Item = T>,
    cells: impl Fn(T) -> Vec<String>,
) -> String {
    let mut out = format!("<table {attributes}><tr>");
    for h in headers {
        let _ = write!(out, "<th>{h}</th>");
    }
    out.push_str("</tr>");
    for item in items {
        out.push_str("<tr>");
        for cell in cells(item) {
            let _ = write!(out, "<td>{cell}</td>");
        }
        out.push_str("</tr>");
    }
    out.push_str("</table>");
    out
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:0;color:#1d2430}\
header{background:#1d2430;color:#fff;padding:.6rem 1rem;display:flex;gap:1.2rem;align-items:center}\
header a{color:#fff;text-decoration:none}header form{margin-left:auto}\
main{padding:1rem 1.5rem}table{border-collapse:collapse;margin:.5rem 0 1.5rem}\
td,th{border:1px solid #ccd;padding:.25rem .6rem;text-align:left;font-size:.9rem}\
th{background:#eef}.High{color:#b00;font-weight:bold}.Medium{color:#b60}.Low{color:#466}\
.cards{display:flex;gap:2rem;flex-wrap:wrap}.error{color:#b00}form.inline{display:inline}\
code{background:#f4f4f8;padding:0 .2rem}";

/// A full page with the navigation bar for `caller`.
fn page(caller: Option<&Caller>, title: &str, body: &str) -> Html<String> {
    let nav = match caller {
        Some(c) => format!(
            "<a href=\"/console\">Dashboard</a><a href=\"/console/findings\">Findings</a>\
             <a href=\"/console/jobs\">Jobs</a><a href=\"/console/investigations\">Investigations</a>\
             <form method=\"post\" action=\"/console/logout\"><span id=\"who\">{} ({})</span> \
             <button>Sign out</button></form>",
            esc(&c.token.name),
            c.role
        ),
        None => String::new(),
    };
    Html(format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{} - dragnet</title>\
         <style>{STYLE}</style></head><body><header><strong>dragnet</strong>{nav}</header>\
         <main><h1>{}</h1>{body}</main></body></html>",
        esc(title),
        esc(title)
    ))
}

/// The signed-in caller, or a redirect to the sign-in page.
async fn signed_in(state: &Arc<AppState>, headers: &HeaderMap) -> Result<Caller, Response> {
    authenticate(state, headers)
        .await
        .map_err(|_| Redirect::to("/console/login").into_response())
}

/// An error as a console page.
fn error_page(caller: &Caller, e: ApiError) -> Response {
    let status = e.status;
    let body = format!("<p class=\"error\" id=\"error\">{}</p>", esc(&e.message));
    (status, page(Some(caller), "Error", &body)).into_response()
}

async fn login_page() -> Html<String> {
    page(
        None,
        "Sign in",
        "<form method=\"post\" action=\"/console/login\"><label>API token \
         <input type=\"password\" name=\"token\" id=\"token\" autocomplete=\"off\" size=\"70\"></label> \
         <button id=\"sign-in\">Sign in</button></form>\
         <p>Tokens are created with <code>dragnet tokens create --name NAME --role ROLE</code>.</p>",
    )
}

#[derive(Deserialize)]
struct Login {
    token: String,
}

async fn login(State(state): Shared, Form(form): Form<Login>) -> Response {
    let hash = hash_token(form.token.trim());
    let found = blocking(&state, move |b| b.token(&hash)).await;
    let valid = matches!(&found, Ok(Ok(t)) if caller(t.clone()).is_some());
    if !valid {
        let body = "<p class=\"error\" id=\"error\">That token is not valid.</p>\
                    <p><a href=\"/console/login\">Try again</a></p>";
        return (StatusCode::UNAUTHORIZED, page(None, "Sign in", body)).into_response();
    }
    let cookie = format!(
        "{COOKIE}={}; HttpOnly; SameSite=Strict; Path=/",
        form.token.trim()
    );
    let mut response = Redirect::to("/console").into_response();
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        response.headers_mut().insert(header::SET_COOKIE, v);
    }
    response
}

async fn logout() -> Response {
    let mut response = Redirect::to("/console/login").into_response();
    response.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_static("dragnet_token=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0"),
    );
    response
}

fn counts_table(title: &str, id: &str, stats: &Value) -> String {
    let mut rows = String::new();
    for g in stats["countsByGroup"].as_array().into_iter().flatten() {
        let key = g["groupKey"].as_str().unwrap_or("");
        let _ = write!(
            rows,
            "<tr><td class=\"{}\">{}</td><td>{}</td></tr>",
            esc(key),
            esc(key),
            g["count"]
        );
    }
    format!("<div><h2>{title}</h2><table id=\"{id}\"><tr><th>{title}</th><th>Findings</th></tr>{rows}</table></div>")
}

async fn dashboard(State(state): Shared, headers: HeaderMap) -> Response {
    let caller = match signed_in(&state, &headers).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let result: Result<String, ApiError> = async {
        let findings = all_findings(&state).await?;
        let now = state.backend.now();
        let mut body = String::from("<div class=\"cards\">");
        for (title, id, group_by) in [
            ("Severity", "by-severity", "severity.description"),
            ("Type", "by-type", "type"),
            ("Bucket", "by-bucket", "resourcesAffected.s3Bucket.name"),
        ] {
            let request = StatisticsRequest {
                finding_criteria: Value::Null,
                group_by: group_by.into(),
                size: Some(10),
                sort_criteria: None,
            };
            body.push_str(&counts_table(title, id, &statistics(&findings, &request, now)?));
        }
        body.push_str("</div>");
        let jobs = blocking(&state, |b| b.jobs()).await??;
        body.push_str("<h2>Recent runs</h2>");
        body.push_str(&table(
            "id=\"runs\"",
            &["Job", "Status", "Last run", "Next run"],
            jobs.iter().take(20),
            |j| {
                let next = field(j, "nextRunAt");
                vec![
                    field(j, "name"),
                    field(j, "jobStatus"),
                    field(j, "lastRunTime"),
                    if next.is_empty() { "-".into() } else { next },
                ]
            },
        ));
        let records = blocking(&state, |b| b.quarantine_records()).await??;
        let _ = write!(
            body,
            "<h2>Quarantine</h2><p id=\"quarantined\">{} objects in quarantine.</p>",
            records.len()
        );
        body.push_str(&table(
            "",
            &["From", "To", "When", "Severity"],
            records.iter().rev().take(10),
            |r| {
                vec![
                    format!("s3://{}/{}", field(r, "source.bucket"), field(r, "source.key")),
                    format!("s3://{}/{}", field(r, "isolation.bucket"), field(r, "isolation.key")),
                    field(r, "quarantinedAt"),
                    field(r, "severity"),
                ]
            },
        ));
        let failures = blocking(&state, |b| b.quarantine_failures()).await??;
        let _ = write!(
            body,
            "<h2>Failed quarantines</h2><p id=\"quarantine-failures\">{} deliveries to the mover failed.</p>",
            failures.len()
        );
        body.push_str(&table(
            "",
            &["When", "Object", "Rule", "Error"],
            failures.iter().rev().take(10),
            |f| {
                vec![
                    field(f, "time"),
                    format!("s3://{}/{}", field(f, "bucket"), field(f, "key")),
                    field(f, "rule"),
                    field(f, "error"),
                ]
            },
        ));
        Ok(body)
    }
    .await;
    match result {
        Ok(body) => page(Some(&caller), "Dashboard", &body).into_response(),
        Err(e) => error_page(&caller, e),
    }
}

/// The console's filter fields and the criteria each sets.
const FILTERS: [(&str, &str, &str); 6] = [
    ("severity", "Severity", "severity.description"),
    ("type", "Type", "type"),
    ("bucket", "Bucket", "resourcesAffected.s3Bucket.name"),
    ("prefix", "Key prefix", "resourcesAffected.s3Object.key"),
    (
        "identifier",
        "Detection type",
        "sensitiveData.detections.type",
    ),
    ("job", "Job id", "classificationDetails.jobId"),
];

fn filter_criteria(query: &BTreeMap<String, String>) -> Value {
    let mut criterion = serde_json::Map::new();
    for (param, _, field) in FILTERS {
        if let Some(v) = query.get(param).map(|v| v.trim()).filter(|v| !v.is_empty()) {
            let op = if param == "prefix" { "prefix" } else { "eq" };
            criterion.insert(field.to_string(), json!({ op: [v] }));
        }
    }
    json!({ "criterion": criterion })
}

pub(crate) fn findings_table(findings: &[Value]) -> String {
    table(
        "id=\"findings\"",
        &["Severity", "Type", "Object", "Detections", "Created"],
        findings,
        |f| {
            let severity = field(f, "severity.description");
            vec![
                format!("<span class=\"{severity}\">{severity}</span>"),
                field(f, "type"),
                format!(
                    "<a class=\"finding\" href=\"/console/findings/{}\">{}</a>",
                    url(f["id"].as_str().unwrap_or("")),
                    field(f, "resourcesAffected.s3Object.path")
                ),
                esc(&detection_types(f).join(", ")),
                field(f, "createdAt"),
            ]
        },
    )
}

async fn findings_page(
    State(state): Shared,
    headers: HeaderMap,
    Query(query): Query<BTreeMap<String, String>>,
) -> Response {
    let caller = match signed_in(&state, &headers).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let mut form =
        String::from("<form method=\"get\" action=\"/console/findings\" id=\"filters\">");
    for (param, label, _) in FILTERS {
        let _ = write!(
            form,
            "<label>{label} <input name=\"{param}\" id=\"filter-{param}\" value=\"{}\"></label> ",
            esc(query.get(param).map_or("", String::as_str))
        );
    }
    form.push_str("<button id=\"apply\">Filter</button></form>");
    let request = ListRequest {
        finding_criteria: filter_criteria(&query),
        sort_criteria: None,
        max_results: Some(50),
        next_token: query.get("page").cloned(),
    };
    let result = async {
        let findings = all_findings(&state).await?;
        Ok::<_, ApiError>(list_findings(&findings, &request, state.backend.now())?)
    }
    .await;
    match result {
        Ok(found) => {
            let mut body = form;
            let _ = write!(body, "<p id=\"count\">{} findings</p>", found.total);
            body.push_str(&findings_table(&found.findings));
            if let Some(next) = found.next_token {
                let mut params: Vec<String> = query
                    .iter()
                    .filter(|(k, _)| k.as_str() != "page")
                    .map(|(k, v)| format!("{}={}", url(k), url(v)))
                    .collect();
                params.push(format!("page={}", url(&next)));
                let _ = write!(
                    body,
                    "<p><a id=\"next\" href=\"/console/findings?{}\">Next page</a></p>",
                    esc(&params.join("&"))
                );
            }
            page(Some(&caller), "Findings", &body).into_response()
        }
        Err(e) => error_page(&caller, e),
    }
}

fn path(p: &str) -> Vec<String> {
    p.split('.').map(str::to_string).collect()
}

/// The occurrences of one detection as table rows: cells, records, line ranges, pages.
fn occurrence_rows(detection_type: &str, occurrences: &Value, out: &mut String) {
    let t = esc(detection_type);
    for c in values_at(occurrences, &path("cells")) {
        let _ = write!(
            out,
            "<tr><td>{t}</td><td>cell</td><td>row {}, column {} ({})</td></tr>",
            c["row"],
            c["column"],
            esc(c["columnName"].as_str().unwrap_or(""))
        );
    }
    for r in values_at(occurrences, &path("records")) {
        let _ = write!(
            out,
            "<tr><td>{t}</td><td>record</td><td>record {} {}</td></tr>",
            r["recordIndex"],
            esc(r["jsonPath"].as_str().unwrap_or(""))
        );
    }
    for l in values_at(occurrences, &path("lineRanges")) {
        let _ = write!(
            out,
            "<tr><td>{t}</td><td>line</td><td>line {}, column {}</td></tr>",
            l["start"], l["startColumn"]
        );
    }
    for p in values_at(occurrences, &path("pages")) {
        let _ = write!(
            out,
            "<tr><td>{t}</td><td>page</td><td>page {}</td></tr>",
            p["pageNumber"]
        );
    }
}

fn finding_detail(f: &Value) -> String {
    let object = &f["resourcesAffected"]["s3Object"];
    let mut body = format!(
        "<table id=\"summary\"><tr><th>Severity</th><td class=\"{sev}\">{sev}</td></tr>\
         <tr><th>Type</th><td>{}</td></tr><tr><th>Object</th><td id=\"object\">{}</td></tr>\
         <tr><th>ETag</th><td>{}</td></tr><tr><th>Job</th><td>{}</td></tr><tr><th>Created</th><td>{}</td></tr></table>",
        esc(f["type"].as_str().unwrap_or("")),
        esc(object["path"].as_str().unwrap_or("")),
        esc(object["eTag"].as_str().unwrap_or("")),
        esc(f["classificationDetails"]["jobId"].as_str().unwrap_or("")),
        esc(f["createdAt"].as_str().unwrap_or("")),
        sev = esc(f["severity"]["description"].as_str().unwrap_or("")),
    );
    body.push_str("<h2>Where</h2><table id=\"occurrences\"><tr><th>Detection type</th><th>Kind</th><th>Location</th></tr>");
    let result = &f["classificationDetails"]["result"];
    for d in values_at(result, &path("sensitiveData.detections")) {
        occurrence_rows(
            d["type"].as_str().unwrap_or(""),
            &d["occurrences"],
            &mut body,
        );
    }
    for d in values_at(result, &path("customDataIdentifiers.detections")) {
        occurrence_rows(
            d["name"].as_str().unwrap_or(""),
            &d["occurrences"],
            &mut body,
        );
    }
    body.push_str("</table>");
    body
}

async fn finding_by_id(state: &Arc<AppState>, finding_id: String) -> Result<Value, ApiError> {
    let id = finding_id.clone();
    blocking(state, move |b| b.finding(&id))
        .await??
        .map(|s| s.finding)
        .ok_or_else(|| ApiError::not_found(format!("finding {finding_id} does not exist")))
}

async fn finding_page(
    State(state): Shared,
    headers: HeaderMap,
    Path(finding_id): Path<String>,
) -> Response {
    let caller = match signed_in(&state, &headers).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    match finding_by_id(&state, finding_id.clone()).await {
        Ok(f) => {
            let mut body = finding_detail(&f);
            if caller.role.allows(Action::Reveal) {
                let _ = write!(
                    body,
                    "<form method=\"post\" action=\"/console/findings/{}/reveal\"><button id=\"reveal\">Reveal values</button> \
                     (audited; up to 10 values per detection type)</form>",
                    url(&finding_id)
                );
            }
            page(Some(&caller), "Finding", &body).into_response()
        }
        Err(e) => error_page(&caller, e),
    }
}

async fn reveal_page(
    State(state): Shared,
    headers: HeaderMap,
    Path(finding_id): Path<String>,
) -> Response {
    let caller = match signed_in(&state, &headers).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    match reveal_for(&state, &caller, &finding_id).await {
        Ok(answer) => {
            let mut body = String::from(
                "<table id=\"revealed\"><tr><th>Detection type</th><th>Values</th></tr>",
            );
            for (t, values) in answer["sensitiveDataOccurrences"]
                .as_object()
                .into_iter()
                .flatten()
            {
                let values: Vec<String> = values
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|v| {
                        format!(
                            "<code class=\"value\">{}</code>",
                            esc(v["value"].as_str().unwrap_or(""))
                        )
                    })
                    .collect();
                let _ = write!(
                    body,
                    "<tr><td>{}</td><td>{}</td></tr>",
                    esc(t),
                    values.join(" ")
                );
            }
            let _ = write!(
                body,
                "</table><p><a href=\"/console/findings/{}\">Back to the finding</a></p>",
                url(&finding_id)
            );
            page(Some(&caller), "Revealed values", &body).into_response()
        }
        Err(e) => error_page(&caller, e),
    }
}

async fn jobs_page(State(state): Shared, headers: HeaderMap) -> Response {
    let caller = match signed_in(&state, &headers).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let jobs = match blocking(&state, |b| b.jobs())
        .await
        .and_then(|r| r.map_err(ApiError::from))
    {
        Ok(j) => j,
        Err(e) => return error_page(&caller, e),
    };
    let operator = caller.role.allows(Action::ControlJobs);
    let body = table(
        "id=\"jobs\"",
        &["Name", "Id", "Type", "Status", "Last run", "Actions"],
        &jobs,
        |j| {
            let id = j["jobId"].as_str().unwrap_or("");
            let mut actions = String::new();
            if operator {
                for action in ["run", "pause", "resume", "cancel"] {
                    let _ = write!(
                        actions,
                        "<form class=\"inline\" method=\"post\" action=\"/console/jobs/{}/{action}\"><button class=\"{action}\">{action}</button></form> ",
                        url(id)
                    );
                }
            }
            vec![
                field(j, "name"),
                esc(id),
                field(j, "jobType"),
                field(j, "jobStatus"),
                field(j, "lastRunTime"),
                actions,
            ]
        },
    );
    page(Some(&caller), "Jobs", &body).into_response()
}

async fn job_action(
    State(state): Shared,
    headers: HeaderMap,
    Path((job_id, action)): Path<(String, String)>,
) -> Response {
    let caller = match signed_in(&state, &headers).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    if !caller.role.allows(Action::ControlJobs) {
        return error_page(&caller, ApiError::forbidden());
    }
    let status = match action.as_str() {
        "pause" => Some("USER_PAUSED"),
        "resume" => Some("RUNNING"),
        "cancel" => Some("CANCELLED"),
        "run" => None,
        _ => return error_page(&caller, ApiError::not_found("no such job action")),
    };
    let id = job_id.clone();
    let done = match status {
        Some(s) => blocking(&state, move |b| b.update_job(&id, s)).await,
        None => blocking(&state, move |b| b.request_run(&id)).await,
    };
    let done = done.and_then(|r| r.map_err(ApiError::from));
    let audited = crate::routes::audit(
        &state,
        &caller,
        if status.is_some() { "UpdateClassificationJob" } else { "RunClassificationJob" },
        json!({"jobId": job_id, "jobStatus": status, "outcome": if done.is_ok() { "SUCCESS" } else { "ERROR" }}),
    )
    .await;
    match done.and(audited) {
        Ok(_) => Redirect::to("/console/jobs").into_response(),
        Err(e) => error_page(&caller, e),
    }
}

async fn investigations_page(State(state): Shared, headers: HeaderMap) -> Response {
    let caller = match signed_in(&state, &headers).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let mut body = String::from(
        "<table id=\"investigations\"><tr><th>Name</th><th>What it answers</th><th>Run</th></tr>",
    );
    for i in state.backend.investigations() {
        let mut inputs = String::new();
        for (p, default) in &i.parameters {
            let _ = write!(
                inputs,
                "<input name=\"{}\" placeholder=\"{}\" value=\"{}\"> ",
                esc(p),
                esc(p),
                esc(default)
            );
        }
        let _ = write!(
            body,
            "<tr><td>{}</td><td>{}</td><td><form method=\"get\" action=\"/console/investigations/{}\">{inputs}<button>Run</button></form></td></tr>",
            esc(&i.name),
            esc(&i.description),
            url(&i.name)
        );
    }
    body.push_str("</table>");
    page(Some(&caller), "Investigations", &body).into_response()
}

async fn investigation_page(
    State(state): Shared,
    headers: HeaderMap,
    Path(name): Path<String>,
    Query(params): Query<BTreeMap<String, String>>,
) -> Response {
    let caller = match signed_in(&state, &headers).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    match run_investigation(&state, &name, &params, None, None).await {
        Ok(answer) => {
            let body = match answer.get("countsByGroup") {
                Some(_) => counts_table("Group", "counts", &answer),
                None => {
                    let findings: Vec<Value> =
                        answer["findings"].as_array().cloned().unwrap_or_default();
                    format!(
                        "<p id=\"count\">{} findings</p>{}",
                        answer["total"],
                        findings_table(&findings)
                    )
                }
            };
            page(Some(&caller), &name, &body).into_response()
        }
        Err(e) => error_page(&caller, e),
    }
}
