//! `dragnet serve`: the long-running process of the embedded default. It runs stored jobs when
//! they are due (a run missed while the service was down runs once at start-up, not once per
//! missed day), routes their findings through the local bus, answers `GET /health`, and on
//! SIGTERM or SIGINT stops taking new objects, records the ones being analysed, and exits 0;
//! the interrupted run resumes at the next start.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context;
use dragnet_job::{JobRecord, JobStore};
use dragnet_model::jobspec::JobType;
use dragnet_model::Timestamp;

use crate::cli::ServeArgs;
use crate::config::Config;
use crate::job_store::{Access, Jobs};
use crate::jobs::{execute, open};
use crate::Exit;

#[derive(Default)]
struct Health {
    runs_completed: u64,
    runs_failed: u64,
    running: Option<String>,
    last_error: Option<String>,
}

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

fn respond(mut stream: TcpStream, health: &Mutex<Health>, started: Instant, jobs: usize) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    let mut buf = [0u8; 4096];
    let n = stream.read(&mut buf).unwrap_or(0);
    let request = String::from_utf8_lossy(&buf[..n]);
    let first = request.lines().next().unwrap_or("");
    let (status, body) = if first.starts_with("GET /health ") {
        let h = health.lock().unwrap_or_else(|p| p.into_inner());
        let body = serde_json::json!({
            "status": "ok",
            "uptimeSeconds": started.elapsed().as_secs(),
            "jobs": jobs,
            "runsCompleted": h.runs_completed,
            "runsFailed": h.runs_failed,
            "running": h.running,
            "lastError": h.last_error,
        });
        ("200 OK", body.to_string())
    } else {
        (
            "404 Not Found",
            r#"{"message":"not found; GET /health"}"#.to_string(),
        )
    };
    let _ = write!(stream, "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len());
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
    stop: &Arc<AtomicBool>,
    health: &Mutex<Health>,
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
        if !due(&store, &job, now) {
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

/// Runs the service until SIGTERM or SIGINT.
pub fn run(args: ServeArgs) -> Result<ExitCode, Exit> {
    let (config, store) = open(args.config.as_deref(), Access::Read)?;
    let stop = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGTERM, signal_hook::consts::SIGINT] {
        signal_hook::flag::register(signal, stop.clone())
            .context("installing the signal handlers")?;
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
    let started = Instant::now();
    let health = Arc::new(Mutex::new(Health::default()));
    let job_count = Arc::new(std::sync::atomic::AtomicUsize::new(
        store.jobs().map(|j| j.len()).unwrap_or(0),
    ));
    // Each tick opens the store afresh (with `[state] shared`, the latest shared copy).
    drop(store);
    tracing::info!(listen = %config.server.listen, state = %config.state.path.display(), "dragnet serve started");
    eprintln!(
        "dragnet serve: listening on {} (GET /health); job store {}",
        config.server.listen,
        config.state.path.display()
    );
    let tick = Duration::from_secs(args.tick.max(1));
    std::thread::scope(|scope| {
        let (stop_http, health_http, jobs_http) = (stop.clone(), health.clone(), job_count.clone());
        scope.spawn(move || {
            while !stop_http.load(Ordering::SeqCst) {
                match listener.accept() {
                    Ok((stream, _)) => {
                        let _ = stream.set_nonblocking(false);
                        respond(
                            stream,
                            &health_http,
                            started,
                            jobs_http.load(Ordering::Relaxed),
                        );
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(50)),
                }
            }
        });
        while !stop.load(Ordering::SeqCst) {
            let now = Timestamp::now();
            let due_jobs = match Jobs::open(&config, Access::Read) {
                Ok(store) => {
                    let jobs = store.jobs().unwrap_or_default();
                    job_count.store(jobs.len(), Ordering::Relaxed);
                    jobs.into_iter()
                        .filter(|j| due(&store, j, now))
                        .map(|j| j.job_id)
                        .collect()
                }
                Err(Exit { error, .. }) => {
                    tracing::error!(error = %format!("{error:#}"), "job store not readable; retrying at the next tick");
                    Vec::new()
                }
            };
            if !due_jobs.is_empty() {
                run_due(&config, &due_jobs, now, &stop, &health);
            }
            let until = Instant::now() + tick;
            while Instant::now() < until && !stop.load(Ordering::SeqCst) {
                std::thread::sleep(Duration::from_millis(100));
            }
        }
    });
    tracing::info!("dragnet serve stopped");
    eprintln!("dragnet serve: stopped");
    Ok(ExitCode::SUCCESS)
}
