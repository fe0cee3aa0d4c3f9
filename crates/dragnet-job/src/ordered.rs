//! Work done on helper threads and taken back in the order it was handed out.
//!
//! The scans of one object's pieces run on helpers while the calling thread reads the object;
//! what the pieces found must be recorded in the object's order (the location cap keeps the
//! first occurrences, as a one-thread scan would). At most two jobs per helper are in flight,
//! which bounds memory to a few jobs whatever the object's size.

use std::collections::BTreeMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender};
use std::sync::Mutex;
use std::time::Duration;

/// How often a thread waiting for a job checks whether a helper failed.
const FAILURE_CHECK: Duration = Duration::from_millis(50);

/// Jobs in flight: sends them to the helpers and hands them back in the order they were sent.
pub(crate) struct Pipeline<'f, J> {
    work: Option<SyncSender<(u64, J)>>,
    done: Receiver<(u64, J)>,
    /// Set by a helper whose job panicked: that job never comes back.
    failed: &'f AtomicBool,
    arrived: BTreeMap<u64, J>,
    sent: u64,
    returned: u64,
    max_in_flight: u64,
}

impl<J> Pipeline<'_, J> {
    /// Sends `job` to a helper, first waiting (and handing finished jobs to `ready`, in order)
    /// while as many jobs as allowed are in flight.
    pub fn send(&mut self, job: J, ready: &mut impl FnMut(J)) {
        while self.sent - self.returned >= self.max_in_flight {
            if !self.receive(ready) {
                break;
            }
        }
        let sent = self
            .work
            .as_ref()
            .is_some_and(|w| w.send((self.sent, job)).is_ok());
        if sent {
            self.sent += 1;
        }
    }

    /// Hands every job still in flight to `ready`, in order. Nothing can be sent afterwards.
    pub fn finish(&mut self, ready: &mut impl FnMut(J)) {
        self.work = None;
        while self.returned < self.sent {
            if !self.receive(ready) {
                break;
            }
        }
    }

    /// Waits for one job back and hands over every job that is next in order; false when no
    /// helper is left.
    ///
    /// # Panics
    /// When a helper's job panicked, as the same work would have on this thread (waiting for
    /// the lost job would hang forever).
    fn receive(&mut self, ready: &mut impl FnMut(J)) -> bool {
        let (index, job) = loop {
            match self.done.recv_timeout(FAILURE_CHECK) {
                Ok(next) => break next,
                Err(RecvTimeoutError::Disconnected) => return false,
                Err(RecvTimeoutError::Timeout) if self.failed.load(Ordering::SeqCst) => {
                    panic!("a helper thread panicked on its part of the object")
                }
                Err(RecvTimeoutError::Timeout) => {}
            }
        };
        self.arrived.insert(index, job);
        while let Some(job) = self.arrived.remove(&self.returned) {
            ready(job);
            self.returned += 1;
        }
        true
    }
}

/// Starts `helpers` threads that each run `process` on the jobs they are given (with a state
/// of their own, `S`, kept from job to job), runs `body` on this thread with the pipeline that
/// feeds them, and returns once `body` has returned and every helper has stopped.
///
/// `body` should [`Pipeline::finish`] before returning; jobs it leaves in flight are dropped.
pub(crate) fn with_helpers<J: Send, S: Default, T>(
    helpers: usize,
    process: impl Fn(&mut J, &mut S) + Sync,
    body: impl FnOnce(&mut Pipeline<'_, J>) -> T,
) -> T {
    let helpers = helpers.max(1);
    let (work_tx, work_rx) = mpsc::sync_channel::<(u64, J)>(helpers);
    let (done_tx, done_rx) = mpsc::channel();
    let work_rx = Mutex::new(work_rx);
    let failed = AtomicBool::new(false);
    std::thread::scope(|scope| {
        for _ in 0..helpers {
            let done = done_tx.clone();
            let work = &work_rx;
            let process = &process;
            let failed = &failed;
            scope.spawn(move || {
                let mut state = S::default();
                loop {
                    let next = work.lock().unwrap_or_else(|p| p.into_inner()).recv();
                    let Ok((index, mut job)) = next else {
                        return;
                    };
                    // The job is dropped: the state it was left in is unknown.
                    if catch_unwind(AssertUnwindSafe(|| process(&mut job, &mut state))).is_err() {
                        failed.store(true, Ordering::SeqCst);
                        return;
                    }
                    if done.send((index, job)).is_err() {
                        return;
                    }
                }
            });
        }
        drop(done_tx);
        let mut pipeline = Pipeline {
            work: Some(work_tx),
            done: done_rx,
            failed: &failed,
            arrived: BTreeMap::new(),
            sent: 0,
            returned: 0,
            max_in_flight: 2 * helpers as u64,
        };
        let out = body(&mut pipeline);
        // Helpers stop once the work channel is closed and drained.
        pipeline.work = None;
        out
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jobs_come_back_in_the_order_they_were_sent() {
        let mut back = Vec::new();
        with_helpers(
            3,
            |job: &mut (u64, u64), calls: &mut u64| {
                // Early jobs take longest, so they finish last.
                std::thread::sleep(std::time::Duration::from_micros(200 * (20 - job.0 % 20)));
                *calls += 1;
                job.1 = job.0 * job.0;
            },
            |pipeline| {
                for i in 0..100 {
                    pipeline.send((i, 0), &mut |job| back.push(job));
                }
                pipeline.finish(&mut |job| back.push(job));
            },
        );
        let expected: Vec<(u64, u64)> = (0..100).map(|i| (i, i * i)).collect();
        assert_eq!(back, expected);
    }

    #[test]
    fn a_job_that_panics_panics_the_caller_instead_of_hanging_it() {
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let outcome = catch_unwind(|| {
                with_helpers(
                    2,
                    |job: &mut u64, _: &mut ()| assert_ne!(*job, 5, "job 5 fails"),
                    |pipeline| {
                        for i in 0..50 {
                            pipeline.send(i, &mut |_| {});
                        }
                        pipeline.finish(&mut |_| {});
                    },
                )
            });
            let _ = tx.send(outcome.is_err());
        });
        let panicked = rx
            .recv_timeout(Duration::from_secs(20))
            .expect("the caller hung waiting for the lost job");
        assert!(panicked);
    }
}
