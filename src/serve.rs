//! `dragnet serve`: the long-running process of the embedded default. It runs stored jobs when
//! they are due (a run missed while the service was down runs once at start-up, not once per
//! missed day) or when the API asks, routes their findings through the local bus, serves the
//! findings API and console (`dragnet_api`, over TLS when configured) and `GET /health`, and on
//! SIGTERM or SIGINT stops taking new objects, records the ones being analysed, and exits 0;
//! the interrupted run resumes at the next start.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context;
use dragnet_api::ApiOptions;
use dragnet_job::{JobRecord, JobStore};
use dragnet_model::jobspec::JobType;
use dragnet_model::Timestamp;

use crate::api_backend::{ServeBackend, ServiceState};
use crate::cli::ServeArgs;
use crate::config::Config;
use crate::job_store::{Access, Jobs};
use crate::jobs::{execute, open};
use crate::Exit;

/// Whether `job` should run now: an unfinished run to resume, a one-time job that has not
/// run, or a scheduled job whose next run time has come.
fn due(store: &JobStore, job: &JobRecord, now: Timestamp) -> bool {
    if !matches!(job.status.as_str(), "IDLE" | "RUNNING") {
        return false;
    }
    let runs = store.runs(&job.job_id).unwrap_or_default();
    if runs.iter().any(|r| r.status == "RUNNING") {
        return true;
    }
    match job.spec.job_type {
        JobType::OneTime => runs.is_empty(),
        JobType::Scheduled => job.next_run_at.is_some_and(|t| t <= now),
    }
}

fn run_dir(state: &Path, job: &str, now: Timestamp) -> PathBuf {
    let stamp: String = now
        .to_string()
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect();
    state
        .parent()
        .unwrap_or(Path::new("."))
        .join("runs")
        .join(job)
        .join(stamp)
}

/// Runs the jobs that were due, holding the store for writing (with `[state] shared`, the
/// lease, so no other scheduler runs them too) and saving it after each run.
fn run_due(
    config: &Config,
    due_jobs: &[String],
    now: Timestamp,
    requested: &[String],
    stop: &Arc<AtomicBool>,
    health: &Mutex<ServiceState>,
) {
    let store = match Jobs::open(config, Access::Write) {
        Ok(store) => store,
        Err(Exit { error, .. }) => {
            tracing::warn!(error = %format!("{error:#}"), "job store not available for runs; retrying at the next tick");
            return;
        }
    };
    for id in due_jobs {
        if stop.load(Ordering::SeqCst) {
            break;
        }
        // Another process may have run or paused it since the store was read.
        let Ok(job) = store.job(id) else { continue };
        let asked = requested.contains(id) && matches!(job.status.as_str(), "IDLE" | "RUNNING");
        if !asked && !due(&store, &job, now) {
            continue;
        }
        tracing::info!(job = %job.job_id, "run starting");
        health.lock().unwrap_or_else(|p| p.into_inner()).running = Some(job.job_id.clone());
        let out = run_dir(&config.state.path, &job.job_id, now);
        let result = execute(
            config,
            &store,
            &job.job_id,
            &out,
            &[],
            &[],
            false,
            Some(stop.clone()),
        );
        // Saved whatever the outcome: a failed run's checkpoint lets any scheduler resume it.
        let saved = store.save();
        let mut h = health.lock().unwrap_or_else(|p| p.into_inner());
        h.running = None;
        match result.and_then(|done| saved.map(|()| done)) {
            Ok(done) => {
                h.runs_completed += 1;
                tracing::info!(job = %job.job_id, run = %done.run.run_id, findings = done.run.report.findings.len(), out = %out.display(), "run completed");
            }
            Err(Exit { error, .. }) => {
                h.runs_failed += 1;
                h.last_error = Some(format!("{error:#}"));
                tracing::error!(job = %job.job_id, error = %format!("{error:#}"), "run did not complete");
            }
        }
    }
}

/// Serves the API and console on `listener` until `stop` is set.
fn serve_http(
    listener: TcpListener,
    router: axum::Router,
    tls: Option<dragnet_api::tls::TlsFiles>,
    stop: Arc<AtomicBool>,
) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_io()
        .enable_time()
        .build()
        .context("starting the HTTP runtime")?;
    runtime.block_on(async move {
        let listener =
            tokio::net::TcpListener::from_std(listener).context("setting up the listener")?;
        let stopped = async move {
            while !stop.load(Ordering::SeqCst) {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        };
        match tls {
            Some(files) => dragnet_api::tls::serve(listener, router, &files, stopped)
                .await
                .context("serving TLS"),
            None => axum::serve(listener, router)
                .with_graceful_shutdown(stopped)
                .await
                .context("serving HTTP"),
        }
    })
}

/// Runs the service until SIGTERM or SIGINT.
pub fn run(args: ServeArgs) -> Result<ExitCode, Exit> {
    let (config, store) = open(args.config.as_deref(), Access::Read)?;
    let stop = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGTERM, signal_hook::consts::SIGINT] {
        signal_hook::flag::register(signal, stop.clone())
            .context("installing the signal handlers")?;
    }
    let tls = match (&config.server.tls_cert, &config.server.tls_key) {
        (Some(cert), Some(key)) => Some(dragnet_api::tls::TlsFiles {
            cert: cert.clone(),
            key: key.clone(),
        }),
        _ => None,
    };
    if let Some(files) = &tls {
        // Refuse to start with a certificate that will not load, rather than fail per client.
        dragnet_api::tls::server_config(files).context("[server] tls_cert / tls_key")?;
    }
    let listener = TcpListener::bind(&config.server.listen).with_context(|| {
        format!(
            "[server] listen = {:?}: cannot listen there",
            config.server.listen
        )
    })?;
    listener
        .set_nonblocking(true)
        .context("setting up the listener")?;
    let service = Arc::new(Mutex::new(ServiceState::default()));
    let backend = ServeBackend::new(config.clone(), service.clone());
    let router = dragnet_api::router(
        Arc::new(backend),
        ApiOptions {
            reveals_per_minute: config.server.reveals_per_minute,
            max_body_bytes: config.server.max_body_bytes,
        },
    );
    // Each tick opens the store afresh (with `[state] shared`, the latest shared copy).
    drop(store);
    let scheme = if tls.is_some() { "https" } else { "http" };
    tracing::info!(listen = %config.server.listen, state = %config.state.path.display(), "dragnet serve started");
    eprintln!(
        "dragnet serve: {scheme}://{}/console (API and GET /health on the same address); job store {}",
        config.server.listen,
        config.state.path.display()
    );
    let tick = Duration::from_secs(args.tick.max(1));
    std::thread::scope(|scope| {
        let stop_http = stop.clone();
        let http = scope.spawn(move || {
            if let Err(e) = serve_http(listener, router, tls, stop_http.clone()) {
                tracing::error!(error = %format!("{e:#}"), "the API stopped");
                eprintln!("dragnet serve: the API stopped: {e:#}");
                stop_http.store(true, Ordering::SeqCst);
            }
        });
        while !stop.load(Ordering::SeqCst) {
            let now = Timestamp::now();
            let requested = std::mem::take(
                &mut service
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .run_requests,
            );
            let due_jobs: Vec<String> = match Jobs::open(&config, Access::Read) {
                Ok(store) => {
                    let jobs = store.jobs().unwrap_or_default();
                    service.lock().unwrap_or_else(|p| p.into_inner()).jobs = jobs.len();
                    let mut ids = requested.clone();
                    ids.extend(
                        jobs.into_iter()
                            .filter(|j| due(&store, j, now) && !requested.contains(&j.job_id))
                            .map(|j| j.job_id),
                    );
                    ids
                }
                Err(Exit { error, .. }) => {
                    tracing::error!(error = %format!("{error:#}"), "job store not readable; retrying at the next tick");
                    Vec::new()
                }
            };
            if !due_jobs.is_empty() {
                run_due(&config, &due_jobs, now, &requested, &stop, &service);
            }
            let until = Instant::now() + tick;
            while Instant::now() < until && !stop.load(Ordering::SeqCst) {
                let asked = !service
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .run_requests
                    .is_empty();
                if asked {
                    break;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
        }
        let _ = http.join();
    });
    tracing::info!("dragnet serve stopped");
    eprintln!("dragnet serve: stopped");
    Ok(ExitCode::SUCCESS)
}
