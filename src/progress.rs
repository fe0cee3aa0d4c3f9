//! Human progress on stderr: a bar on a terminal, plain lines otherwise; and the end-of-scan
//! summary table.

use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Instant;

use dragnet_job::{Progress, RunReport};

/// Progress of a scan on stderr.
pub struct StderrProgress {
    tty: bool,
    started: Instant,
    total_objects: AtomicU64,
    total_bytes: AtomicU64,
    done_objects: AtomicU64,
    done_bytes: AtomicU64,
    last_print: Mutex<Instant>,
}

impl StderrProgress {
    /// A progress display; `quiet` turns the plain lines off (the bar stays on a terminal).
    pub fn new() -> Self {
        StderrProgress {
            tty: std::io::stderr().is_terminal(),
            started: Instant::now(),
            total_objects: AtomicU64::new(0),
            total_bytes: AtomicU64::new(0),
            done_objects: AtomicU64::new(0),
            done_bytes: AtomicU64::new(0),
            last_print: Mutex::new(Instant::now()),
        }
    }

    fn render(&self, force: bool) {
        let mut last = self.last_print.lock().unwrap_or_else(|p| p.into_inner());
        let interval = if self.tty { 0.1 } else { 2.0 };
        if !force && last.elapsed().as_secs_f64() < interval {
            return;
        }
        *last = Instant::now();
        let (objects, bytes) = (
            self.done_objects.load(Ordering::Relaxed),
            self.done_bytes.load(Ordering::Relaxed),
        );
        let (total_objects, total_bytes) = (
            self.total_objects.load(Ordering::Relaxed),
            self.total_bytes.load(Ordering::Relaxed),
        );
        let secs = self.started.elapsed().as_secs_f64().max(1e-6);
        let rate = bytes as f64 / 1e6 / secs;
        let mut err = std::io::stderr().lock();
        if self.tty {
            let width = 30usize;
            let filled = if total_bytes == 0 {
                width
            } else {
                (bytes as f64 / total_bytes as f64 * width as f64) as usize
            };
            let _ = write!(
                err,
                "\r[{}{}] {objects}/{total_objects} objects  {:.1}/{:.1} MB  {rate:.1} MB/s ",
                "#".repeat(filled.min(width)),
                ".".repeat(width - filled.min(width)),
                bytes as f64 / 1e6,
                total_bytes as f64 / 1e6
            );
        } else {
            let _ = writeln!(
                err,
                "progress: {objects}/{total_objects} objects, {:.1} MB, {rate:.1} MB/s",
                bytes as f64 / 1e6
            );
        }
    }

    /// Ends the bar's line.
    pub fn finish(&self) {
        self.render(true);
        if self.tty {
            let _ = writeln!(std::io::stderr());
        }
    }
}

impl Progress for StderrProgress {
    fn planned(&self, objects: u64, bytes: u64) {
        self.total_objects.store(objects, Ordering::Relaxed);
        self.total_bytes.store(bytes, Ordering::Relaxed);
        if !self.tty {
            eprintln!(
                "planned: {objects} objects, {:.1} MB to scan",
                bytes as f64 / 1e6
            );
        }
    }

    fn object_done(&self, bytes: u64) {
        self.done_objects.fetch_add(1, Ordering::Relaxed);
        self.done_bytes.fetch_add(bytes, Ordering::Relaxed);
        self.render(false);
    }
}

/// The end-of-scan summary table.
pub fn summary_table(report: &RunReport) -> String {
    let s = &report.statistics;
    let mut out = String::new();
    let mb = s.bytes_scanned as f64 / 1e6;
    let rate = if s.wall_seconds > 0.0 {
        mb / s.wall_seconds
    } else {
        0.0
    };
    out.push_str(&format!(
        "{:<28} {:>12}\n",
        "objects listed", s.objects_listed
    ));
    out.push_str(&format!(
        "{:<28} {:>12}\n",
        "objects scanned", s.objects_scanned
    ));
    for (reason, n) in &s.objects_skipped {
        out.push_str(&format!("{:<28} {:>12}  {reason}\n", "objects skipped", n));
    }
    for (reason, n) in &s.objects_partial {
        out.push_str(&format!(
            "{:<28} {:>12}  {reason}\n",
            "objects read in part", n
        ));
    }
    out.push_str(&format!("{:<28} {:>12.1}\n", "MB scanned", mb));
    out.push_str(&format!("{:<28} {:>12.3}\n", "seconds", s.wall_seconds));
    out.push_str(&format!("{:<28} {:>12.1}\n", "MB/s", rate));
    out.push_str(&format!("{:<28} {:>12}\n", "findings", s.findings.total));
    for sev in ["High", "Medium", "Low"] {
        if let Some(n) = s.findings.by_severity.get(sev) {
            out.push_str(&format!("{:<28} {:>12}\n", format!("  severity {sev}"), n));
        }
    }
    for (t, n) in &s.findings.by_type {
        out.push_str(&format!(
            "{:<28} {:>12}\n",
            format!("  {}", t.trim_start_matches("SensitiveData:S3Object/")),
            n
        ));
    }
    out
}
