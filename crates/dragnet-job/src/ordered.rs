//! Work done on helper threads and taken back in the order it was handed out.
//!
//! The scans of one object's pieces run on helpers while the calling thread reads the object;
//! what the pieces found must be recorded in the object's order (the location cap keeps the
//! first occurrences, as a one-thread scan would). At most two jobs per helper are in flight,
//! which bounds memory to a few jobs whatever the object's size.

use std::collections::BTreeMap;
use std::sync::mpsc::{self, Receiver, SyncSender};
use std::sync::Mutex;

/// Jobs in flight: sends them to the helpers and hands them back in the order they were sent.
pub(crate) struct Pipeline<J> {
    work: Option<SyncSender<(u64, J)>>,
    done: Receiver<(u64, J)>,
    arrived: BTreeMap<u64, J>,
    sent: u64,
    returned: u64,
    max_in_flight: u64,
}

impl<J> Pipeline<J> {
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
    fn receive(&mut self, ready: &mut impl FnMut(J)) -> bool {
        let Ok((index, job)) = self.done.recv() else {
            return false;
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
    body: impl FnOnce(&mut Pipeline<J>) -> T,
) -> T {
    let helpers = helpers.max(1);
    let (work_tx, work_rx) = mpsc::sync_channel::<(u64, J)>(helpers);
    let (done_tx, done_rx) = mpsc::channel();
    let work_rx = Mutex::new(work_rx);
    std::thread::scope(|scope| {
        for _ in 0..helpers {
            let done = done_tx.clone();
            let work = &work_rx;
            let process = &process;
            scope.spawn(move || {
                let mut state = S::default();
                loop {
                    let next = work.lock().unwrap_or_else(|p| p.into_inner()).recv();
                    let Ok((index, mut job)) = next else {
                        return;
                    };
                    process(&mut job, &mut state);
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
}
