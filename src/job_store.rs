//! The job store a command works on: the local SQLite file (`[state] path`), or, with
//! `[state] shared = "s3://bucket/prefix"`, a local copy of the deployment's shared store
//! (see `dragnet_job::shared` for the protocol and why S3 rather than DynamoDB).
//!
//! Readers pull the shared copy. Writers also take the lease (waiting up to
//! `lease_wait_secs` for another holder), keep it renewed from a background thread while
//! they work, save with a conditional write, and release it when dropped.

use std::ops::Deref;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use anyhow::Context;
use dragnet_job::{JobStore, Lease, Pulled, SharedState, SharedStateError};
use dragnet_model::Timestamp;

use crate::config::Config;
use crate::Exit;

/// What a command does with the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Reads only: no lease, nothing saved.
    Read,
    /// Changes it: the lease is held until the session ends.
    Write,
}

/// Time to live of a lease; renewed every third of it while held.
const LEASE_TTL: Duration = Duration::from_secs(60);

/// An open job store, saved back to the shared location by [`Jobs::save`].
pub struct Jobs {
    store: JobStore,
    shared: Option<Session>,
}

/// The shared side of a session.
struct Session {
    state: SharedState,
    pulled: Mutex<Pulled>,
    lease: Option<Arc<Mutex<Lease>>>,
    lost: Arc<Mutex<Option<String>>>,
    stop: Arc<AtomicBool>,
    renewer: Option<JoinHandle<()>>,
}

impl Deref for Jobs {
    type Target = JobStore;
    fn deref(&self) -> &JobStore {
        &self.store
    }
}

/// `host:pid`, naming a lease holder for the other processes' messages.
fn holder() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "unknown-host".into());
    format!("{host}:{}", std::process::id())
}

/// A shared store that cannot be used fails the command (exit 1), whatever the cause.
fn shared_error(e: SharedStateError) -> Exit {
    Exit::failed(e)
}

impl Jobs {
    /// Opens the store the config names, for `access`.
    pub fn open(config: &Config, access: Access) -> Result<Jobs, Exit> {
        let shared = match config.state.shared_location() {
            Some((bucket, prefix)) => {
                let objects = crate::store::open(config)?;
                Some(Session::start(
                    SharedState::new(objects, &bucket, &prefix),
                    config,
                    access,
                )?)
            }
            None => None,
        };
        let store = JobStore::open(&config.state.path)
            .with_context(|| format!("opening the job store {}", config.state.path.display()))?;
        Ok(Jobs { store, shared })
    }

    /// Saves the store to the shared location (nothing to do for a local store). Fails when
    /// the lease was lost or another process saved meanwhile: this process's changes are then
    /// not shared, and the message says so.
    pub fn save(&self) -> Result<(), Exit> {
        let Some(session) = &self.shared else {
            return Ok(());
        };
        if session.lease.is_none() {
            return Err(Exit::failed(anyhow::anyhow!(
                "the job store was opened for reading; its changes cannot be saved to {}",
                session.state.location()
            )));
        }
        if let Some(reason) = session
            .lost
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
        {
            return Err(Exit::failed(anyhow::anyhow!(reason)));
        }
        let mut pulled = session.pulled.lock().unwrap_or_else(|p| p.into_inner());
        *pulled = session
            .state
            .push(&self.store, &pulled)
            .map_err(shared_error)?;
        tracing::info!(location = %session.state.location(), "job store saved");
        Ok(())
    }
}

impl Session {
    fn start(state: SharedState, config: &Config, access: Access) -> Result<Session, Exit> {
        let lease = match access {
            Access::Read => None,
            Access::Write => Some(acquire(&state, config.state.lease_wait_secs)?),
        };
        let pulled = match state.pull(&config.state.path) {
            Ok(p) => p,
            Err(e) => {
                if let Some(lease) = lease {
                    let _ = state.release(lease);
                }
                return Err(shared_error(e));
            }
        };
        let lost = Arc::new(Mutex::new(None));
        let stop = Arc::new(AtomicBool::new(false));
        let lease = lease.map(|l| Arc::new(Mutex::new(l)));
        let renewer = lease.as_ref().map(|lease| {
            let (state, lease, lost, stop) =
                (state.clone(), lease.clone(), lost.clone(), stop.clone());
            std::thread::spawn(move || renew_until_stopped(&state, &lease, &lost, &stop))
        });
        Ok(Session {
            state,
            pulled: Mutex::new(pulled),
            lease,
            lost,
            stop,
            renewer,
        })
    }
}

/// Takes the lease, retrying while another process holds it, for up to `wait_secs`.
fn acquire(state: &SharedState, wait_secs: u64) -> Result<Lease, Exit> {
    let deadline = Instant::now() + Duration::from_secs(wait_secs);
    let me = holder();
    loop {
        match state.acquire(&me, LEASE_TTL.as_millis() as i64, Timestamp::now()) {
            Ok(lease) => return Ok(lease),
            Err(SharedStateError::Held { .. }) if Instant::now() < deadline => {
                std::thread::sleep(Duration::from_secs(1));
            }
            Err(e) => return Err(shared_error(e)),
        }
    }
}

fn renew_until_stopped(
    state: &SharedState,
    lease: &Mutex<Lease>,
    lost: &Mutex<Option<String>>,
    stop: &AtomicBool,
) {
    let period = LEASE_TTL / 3;
    let mut next = Instant::now() + period;
    while !stop.load(Ordering::SeqCst) {
        std::thread::sleep(Duration::from_millis(200));
        if Instant::now() < next {
            continue;
        }
        next = Instant::now() + period;
        let mut held = lease.lock().unwrap_or_else(|p| p.into_inner());
        match state.renew(&mut held, LEASE_TTL.as_millis() as i64, Timestamp::now()) {
            Ok(()) => {}
            Err(e @ SharedStateError::Lost { .. }) => {
                tracing::error!(error = %e, "job store lease lost");
                *lost.lock().unwrap_or_else(|p| p.into_inner()) = Some(e.to_string());
                return;
            }
            // A failed renewal is retried at the next period; the lease lasts three of them.
            Err(e) => tracing::warn!(error = %e, "could not renew the job store lease"),
        }
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(renewer) = self.renewer.take() {
            let _ = renewer.join();
        }
        if let Some(lease) = self.lease.take() {
            let lease = lease.lock().unwrap_or_else(|p| p.into_inner()).clone();
            if let Err(e) = self.state.release(lease) {
                tracing::warn!(error = %e, "could not release the job store lease; it lapses by itself");
            }
        }
    }
}
