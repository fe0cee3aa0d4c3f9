//! The API's routes and handlers.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use dragnet_findings::criteria::values_at;
use dragnet_findings::investigations::InvestigationKind;
use dragnet_findings::Investigation;
use dragnet_findings::{
    get_findings, list_findings, statistics, Action, ListRequest, Role, SortCriteria, Source,
    StatisticsRequest,
};
use dragnet_job::{StoredFinding, TokenRecord};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::auth::{caller, hash_token, new_token, presented_secret, Caller};
use crate::limit::RateLimiter;
use crate::{ApiError, ApiOptions, AppState, Backend, RevealError};

/// Values returned per detection type by a reveal (Macie's limit).
pub const REVEAL_VALUES_PER_TYPE: usize = 10;
/// Detection types returned by a reveal (Macie's limit).
pub const REVEAL_TYPES: usize = 100;

type Shared = State<Arc<AppState>>;

/// The API's router over `backend`.
pub fn router(backend: Arc<dyn Backend>, options: ApiOptions) -> Router {
    let state = Arc::new(AppState {
        backend,
        reveals: RateLimiter::new(options.reveals_per_minute, Duration::from_secs(60)),
        options: options.clone(),
    });
    Router::new()
        .route("/health", get(health))
        .route("/whoami", get(whoami))
        .route("/jobs/list", post(list_jobs))
        .route("/jobs/{job_id}", get(describe_job).patch(update_job))
        .route("/jobs/{job_id}/run", post(run_job))
        .route("/findings", post(findings_list))
        .route("/findings/describe", post(findings_describe))
        .route("/findings/statistics", post(findings_statistics))
        .route("/findings/{finding_id}/reveal", get(reveal))
        .route("/quarantine", get(quarantine_list))
        .route("/quarantine/failures", get(quarantine_failures))
        .route("/quarantine/{finding_id}/restore", post(quarantine_restore))
        .route("/investigations", get(investigations_list))
        .route("/investigations/{name}/run", post(investigation_run))
        .route("/tokens", get(tokens_list).post(token_create))
        .route("/tokens/{token_id}", delete(token_revoke))
        .merge(crate::console::routes())
        .layer(DefaultBodyLimit::max(options.max_body_bytes))
        .with_state(state)
}

/// Runs a backend call on a blocking thread.
pub(crate) async fn blocking<T: Send + 'static>(
    state: &Arc<AppState>,
    f: impl FnOnce(&dyn Backend) -> T + Send + 'static,
) -> Result<T, ApiError> {
    let backend = state.backend.clone();
    tokio::task::spawn_blocking(move || f(backend.as_ref()))
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "backend call panicked or was cancelled");
            ApiError::internal()
        })
}

/// The caller behind the request's token; 401 without a valid one.
pub(crate) async fn authenticate(
    state: &Arc<AppState>,
    headers: &HeaderMap,
) -> Result<Caller, ApiError> {
    let secret = presented_secret(headers).ok_or_else(ApiError::unauthenticated)?;
    let hash = hash_token(&secret);
    let token = blocking(state, move |b| b.token(&hash)).await??;
    caller(token).ok_or_else(ApiError::unauthenticated)
}

/// The caller, when its role allows `action`; 401 or 403 otherwise.
pub(crate) async fn authorize(
    state: &Arc<AppState>,
    headers: &HeaderMap,
    action: Action,
) -> Result<Caller, ApiError> {
    let caller = authenticate(state, headers).await?;
    if caller.role.allows(action) {
        Ok(caller)
    } else {
        Err(ApiError::forbidden())
    }
}

/// Parses a JSON body (an empty body is `{}`), naming the field that is wrong.
fn body<T: DeserializeOwned>(bytes: &Bytes) -> Result<T, ApiError> {
    let text: &[u8] = if bytes.iter().all(u8::is_ascii_whitespace) {
        b"{}"
    } else {
        bytes
    };
    let de = &mut serde_json::Deserializer::from_slice(text);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        if path == "." {
            ApiError::invalid(format!("request body: {}", e.inner()))
        } else {
            ApiError::invalid(format!("{path}: {}", e.inner()))
        }
    })
}

/// Writes an audit record; a failure to audit fails the request (nothing unaudited happens).
pub(crate) async fn audit(
    state: &Arc<AppState>,
    caller: &Caller,
    action: &str,
    details: Value,
) -> Result<(), ApiError> {
    let mut record = json!({
        "time": state.backend.now(),
        "tokenId": caller.token.token_id,
        "tokenName": caller.token.name,
        "role": caller.role.as_str(),
        "action": action,
    });
    if let (Some(r), Value::Object(d)) = (record.as_object_mut(), details) {
        r.extend(d);
    }
    blocking(state, move |b| b.audit(&record))
        .await?
        .map_err(|e| {
            tracing::error!(error = %e, "audit log not writable");
            ApiError::internal()
        })
}

async fn health(State(state): Shared) -> Result<Json<Value>, ApiError> {
    Ok(Json(blocking(&state, |b| b.health()).await?))
}

async fn whoami(State(state): Shared, headers: HeaderMap) -> Result<Json<Value>, ApiError> {
    let c = authenticate(&state, &headers).await?;
    Ok(Json(token_summary(&c.token)))
}

/// A token as listings show it: id, name, role, times, isolation access; never the secret
/// or its hash.
pub fn token_summary(t: &TokenRecord) -> Value {
    json!({
        "tokenId": t.token_id,
        "name": t.name,
        "role": t.role,
        "createdAt": t.created_at,
        "revokedAt": t.revoked_at,
        "readsIsolation": t.reads_isolation,
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Page {
    #[serde(default)]
    max_results: Option<usize>,
    #[serde(default)]
    next_token: Option<String>,
}

/// Offset paging of a whole list (`nextToken` is the offset of the next page).
fn page<T: Clone>(items: &[T], page: &Page) -> Result<(Vec<T>, Option<String>), ApiError> {
    let size = match page.max_results {
        None | Some(0) => 100,
        Some(n) if n <= 200 => n,
        Some(_) => return Err(ApiError::invalid("maxResults: at most 200")),
    };
    let offset = match page.next_token.as_deref() {
        None | Some("") => 0,
        Some(t) => t
            .parse::<usize>()
            .map_err(|_| ApiError::invalid("nextToken: not a token this list returned"))?,
    };
    let end = (offset + size).min(items.len());
    let slice = items.get(offset..end).unwrap_or_default().to_vec();
    Ok((slice, (end < items.len()).then(|| end.to_string())))
}

async fn list_jobs(
    State(state): Shared,
    headers: HeaderMap,
    bytes: Bytes,
) -> Result<Json<Value>, ApiError> {
    authorize(&state, &headers, Action::Read).await?;
    let request: Page = body(&bytes)?;
    let jobs = blocking(&state, |b| b.jobs()).await??;
    let (items, next_token) = page(&jobs, &request)?;
    Ok(Json(json!({"items": items, "nextToken": next_token})))
}

async fn describe_job(
    State(state): Shared,
    headers: HeaderMap,
    Path(job_id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    authorize(&state, &headers, Action::Read).await?;
    Ok(Json(blocking(&state, move |b| b.job(&job_id)).await??))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct UpdateJob {
    job_status: String,
}

async fn update_job(
    State(state): Shared,
    headers: HeaderMap,
    Path(job_id): Path<String>,
    bytes: Bytes,
) -> Result<Json<Value>, ApiError> {
    let caller = authorize(&state, &headers, Action::ControlJobs).await?;
    let request: UpdateJob = body(&bytes)?;
    if !matches!(
        request.job_status.as_str(),
        "RUNNING" | "USER_PAUSED" | "CANCELLED"
    ) {
        return Err(ApiError::invalid(
            "jobStatus: expected RUNNING (resume), USER_PAUSED or CANCELLED",
        ));
    }
    let to = request.job_status.clone();
    let id = job_id.clone();
    let job = blocking(&state, move |b| b.update_job(&id, &to)).await??;
    audit(
        &state,
        &caller,
        "UpdateClassificationJob",
        json!({"jobId": job_id, "jobStatus": request.job_status}),
    )
    .await?;
    Ok(Json(job))
}

async fn run_job(
    State(state): Shared,
    headers: HeaderMap,
    Path(job_id): Path<String>,
) -> Result<Response, ApiError> {
    let caller = authorize(&state, &headers, Action::ControlJobs).await?;
    let id = job_id.clone();
    let queued = blocking(&state, move |b| b.request_run(&id)).await??;
    audit(
        &state,
        &caller,
        "RunClassificationJob",
        json!({"jobId": job_id}),
    )
    .await?;
    Ok((StatusCode::ACCEPTED, Json(queued)).into_response())
}

/// Every stored finding as JSON.
pub(crate) async fn all_findings(state: &Arc<AppState>) -> Result<Vec<Value>, ApiError> {
    let stored = blocking(state, |b| b.findings()).await??;
    Ok(stored.into_iter().map(|s| s.finding).collect())
}

async fn findings_list(
    State(state): Shared,
    headers: HeaderMap,
    bytes: Bytes,
) -> Result<Json<Value>, ApiError> {
    authorize(&state, &headers, Action::Read).await?;
    let request: ListRequest = body(&bytes)?;
    let findings = all_findings(&state).await?;
    let page = list_findings(&findings, &request, state.backend.now())?;
    Ok(Json(page.to_response()))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Describe {
    finding_ids: Vec<String>,
    #[serde(default)]
    sort_criteria: Option<SortCriteria>,
}

async fn findings_describe(
    State(state): Shared,
    headers: HeaderMap,
    bytes: Bytes,
) -> Result<Json<Value>, ApiError> {
    authorize(&state, &headers, Action::Read).await?;
    let request: Describe = body(&bytes)?;
    let findings = all_findings(&state).await?;
    let found = get_findings(
        &findings,
        &request.finding_ids,
        request.sort_criteria.as_ref(),
    )?;
    Ok(Json(json!({ "findings": found })))
}

async fn findings_statistics(
    State(state): Shared,
    headers: HeaderMap,
    bytes: Bytes,
) -> Result<Json<Value>, ApiError> {
    authorize(&state, &headers, Action::Read).await?;
    let request: StatisticsRequest = body(&bytes)?;
    let findings = all_findings(&state).await?;
    Ok(Json(statistics(&findings, &request, state.backend.now())?))
}

/// The detection types of a finding: managed ids and custom identifier names.
pub(crate) fn detection_types(finding: &Value) -> Vec<String> {
    let path = |p: &str| p.split('.').map(str::to_string).collect::<Vec<_>>();
    let mut types: Vec<String> = Vec::new();
    for p in [
        "classificationDetails.result.sensitiveData.detections.type",
        "classificationDetails.result.customDataIdentifiers.detections.name",
    ] {
        for v in values_at(finding, &path(p)) {
            if let Some(s) = v.as_str().filter(|s| !types.iter().any(|t| t == s)) {
                types.push(s.to_string());
            }
        }
    }
    types.truncate(REVEAL_TYPES);
    types
}

/// Reveals the values behind `finding_id` for `caller` (an investigator or admin), auditing
/// the attempt whatever its outcome. Shared by the API and the console.
pub(crate) async fn reveal_for(
    state: &Arc<AppState>,
    caller: &Caller,
    finding_id: &str,
) -> Result<Value, ApiError> {
    let denied =
        |reason: &str| json!({"findingId": finding_id, "outcome": "DENIED", "reason": reason});
    if !caller.role.allows(Action::Reveal) {
        audit(state, caller, "GetSensitiveDataOccurrences", denied("role")).await?;
        return Err(ApiError::forbidden());
    }
    if let Err(wait) = state.reveals.check(&caller.token.token_id, Instant::now()) {
        audit(
            state,
            caller,
            "GetSensitiveDataOccurrences",
            denied("rate limit"),
        )
        .await?;
        return Err(ApiError::throttled(format!(
            "at most {} reveals per minute per token; retry in {} s",
            state.options.reveals_per_minute,
            wait.as_secs().max(1)
        )));
    }
    let id = finding_id.to_string();
    let stored: StoredFinding = blocking(state, move |b| b.finding(&id))
        .await??
        .ok_or_else(|| ApiError::not_found(format!("finding {finding_id} does not exist")))?;
    let types = detection_types(&stored.finding);
    let location = json!({"findingId": finding_id, "bucket": stored.bucket, "key": stored.key, "types": types});
    let outcome = if types.is_empty() {
        Err(RevealError::Unsupported(
            "the finding reports no detection types".into(),
        ))
    } else {
        let reads_isolation = caller.token.reads_isolation;
        let finding = stored.clone();
        blocking(state, move |b| {
            b.reveal(&finding, reads_isolation, REVEAL_VALUES_PER_TYPE)
        })
        .await?
    };
    let mut record = location;
    match &outcome {
        Ok(values) => {
            let counts: BTreeMap<&str, usize> = types
                .iter()
                .map(|t| (t.as_str(), values.get(t).map_or(0, Vec::len)))
                .collect();
            record["outcome"] = json!("SUCCESS");
            record["valuesReturned"] = json!(counts);
        }
        Err(e) => {
            record["outcome"] = json!("ERROR");
            record["reason"] = json!(e.to_string());
        }
    }
    audit(state, caller, "GetSensitiveDataOccurrences", record).await?;
    let mut values = outcome?;
    let occurrences: serde_json::Map<String, Value> = types
        .iter()
        .filter_map(|t| {
            let vals = values.remove(t)?;
            (!vals.is_empty()).then(|| {
                let vals: Vec<Value> = vals
                    .into_iter()
                    .take(REVEAL_VALUES_PER_TYPE)
                    .map(|v| json!({ "value": v }))
                    .collect();
                (t.clone(), Value::Array(vals))
            })
        })
        .collect();
    Ok(json!({"status": "SUCCESS", "sensitiveDataOccurrences": occurrences}))
}

async fn reveal(
    State(state): Shared,
    headers: HeaderMap,
    Path(finding_id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let caller = authenticate(&state, &headers).await?;
    Ok(Json(reveal_for(&state, &caller, &finding_id).await?))
}

async fn quarantine_list(
    State(state): Shared,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    authorize(&state, &headers, Action::Read).await?;
    let records = blocking(&state, |b| b.quarantine_records()).await??;
    Ok(Json(json!({ "records": records })))
}

async fn quarantine_failures(
    State(state): Shared,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    authorize(&state, &headers, Action::Read).await?;
    let failures = blocking(&state, |b| b.quarantine_failures()).await??;
    Ok(Json(json!({ "failures": failures })))
}

async fn quarantine_restore(
    State(state): Shared,
    headers: HeaderMap,
    Path(finding_id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let caller = authorize(&state, &headers, Action::Restore).await?;
    let id = finding_id.clone();
    let restored = blocking(&state, move |b| b.restore(&id)).await?;
    audit(
        &state,
        &caller,
        "RestoreQuarantinedObject",
        json!({"findingId": finding_id, "outcome": if restored.is_ok() { "SUCCESS" } else { "ERROR" }}),
    )
    .await?;
    Ok(Json(restored?))
}

async fn investigations_list(
    State(state): Shared,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    authorize(&state, &headers, Action::Read).await?;
    let list: Vec<Value> = state
        .backend
        .investigations()
        .iter()
        .map(Investigation::summary)
        .collect();
    Ok(Json(json!({ "investigations": list })))
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RunInvestigation {
    #[serde(default)]
    parameters: BTreeMap<String, String>,
    #[serde(default)]
    max_results: Option<usize>,
    #[serde(default)]
    next_token: Option<String>,
}

/// Runs investigation `name` with `parameters` over the stored findings.
pub(crate) async fn run_investigation(
    state: &Arc<AppState>,
    name: &str,
    parameters: &BTreeMap<String, String>,
    max_results: Option<usize>,
    next_token: Option<String>,
) -> Result<Value, ApiError> {
    let investigation = state
        .backend
        .investigations()
        .into_iter()
        .find(|i| i.name == name)
        .ok_or_else(|| {
            ApiError::not_found(format!(
                "no investigation named {name:?}; GET /investigations lists them"
            ))
        })?;
    let kind = investigation.instantiate(parameters)?;
    let findings = match investigation.source {
        Source::Findings => all_findings(state).await?,
        Source::QuarantineFailures => blocking(state, |b| b.quarantine_failures()).await??,
    };
    let now = state.backend.now();
    Ok(match kind {
        InvestigationKind::List(mut request) => {
            request.max_results = max_results;
            request.next_token = next_token;
            let page = list_findings(&findings, &request, now)?;
            json!({
                "investigation": name,
                "findingIds": page.finding_ids,
                "nextToken": page.next_token,
                "total": page.total,
                "findings": page.findings,
            })
        }
        InvestigationKind::Statistics(request) => {
            let mut stats = statistics(&findings, &request, now)?;
            stats["investigation"] = json!(name);
            stats
        }
    })
}

async fn investigation_run(
    State(state): Shared,
    headers: HeaderMap,
    Path(name): Path<String>,
    bytes: Bytes,
) -> Result<Json<Value>, ApiError> {
    authorize(&state, &headers, Action::Read).await?;
    let request: RunInvestigation = body(&bytes)?;
    Ok(Json(
        run_investigation(
            &state,
            &name,
            &request.parameters,
            request.max_results,
            request.next_token,
        )
        .await?,
    ))
}

async fn tokens_list(State(state): Shared, headers: HeaderMap) -> Result<Json<Value>, ApiError> {
    authorize(&state, &headers, Action::ManageTokens).await?;
    let tokens = blocking(&state, |b| b.tokens()).await??;
    let tokens: Vec<Value> = tokens.iter().map(token_summary).collect();
    Ok(Json(json!({ "tokens": tokens })))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct CreateToken {
    name: String,
    role: String,
    #[serde(default)]
    reads_isolation: bool,
}

async fn token_create(
    State(state): Shared,
    headers: HeaderMap,
    bytes: Bytes,
) -> Result<Response, ApiError> {
    let caller = authorize(&state, &headers, Action::ManageTokens).await?;
    let request: CreateToken = body(&bytes)?;
    let role: Role = request
        .role
        .parse()
        .map_err(|e| ApiError::invalid(format!("role: {e}")))?;
    let name = request.name.trim();
    if name.is_empty() || name.len() > 128 {
        return Err(ApiError::invalid("name: give 1 to 128 characters"));
    }
    let token =
        new_token(name, role, request.reads_isolation, state.backend.now()).map_err(|e| {
            tracing::error!(error = %e, "no randomness for a token");
            ApiError::internal()
        })?;
    let record = token.record.clone();
    blocking(&state, move |b| b.create_token(&record)).await??;
    audit(
        &state,
        &caller,
        "CreateToken",
        json!({"createdTokenId": token.record.token_id, "createdRole": role.as_str()}),
    )
    .await?;
    let mut answer = token_summary(&token.record);
    answer["token"] = json!(token.secret);
    Ok((StatusCode::CREATED, Json(answer)).into_response())
}

async fn token_revoke(
    State(state): Shared,
    headers: HeaderMap,
    Path(token_id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let caller = authorize(&state, &headers, Action::ManageTokens).await?;
    let id = token_id.clone();
    if !blocking(&state, move |b| b.revoke_token(&id)).await?? {
        return Err(ApiError::not_found(format!(
            "token {token_id} does not exist"
        )));
    }
    audit(
        &state,
        &caller,
        "RevokeToken",
        json!({"revokedTokenId": token_id}),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}
