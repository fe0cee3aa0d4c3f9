//! `dragnet`: find sensitive data in object stores, the way Amazon Macie does, and act on it.
//!
//! The binary wires the crates together: argument parsing, config and file loading, output.
//! Exit status: 0 success, 1 the job failed, 2 bad usage or bad input.

mod cli;
mod commands;
mod config;
mod demo;
mod jobs;
mod load;
mod progress;
mod react;
mod sample;
mod serve;

use std::process::ExitCode;

use clap::Parser;

/// An error with the exit status it deserves.
pub struct Exit {
    code: u8,
    error: anyhow::Error,
}

impl Exit {
    /// The job (or the command's main work) failed: exit 1.
    pub fn failed(error: impl Into<anyhow::Error>) -> Self {
        Exit {
            code: 1,
            error: error.into(),
        }
    }
}

impl<E: Into<anyhow::Error>> From<E> for Exit {
    /// Anything else is bad usage or bad input: exit 2.
    fn from(error: E) -> Self {
        Exit {
            code: 2,
            error: error.into(),
        }
    }
}

fn main() -> ExitCode {
    let args = cli::Cli::parse();
    init_logging(args.verbose);
    let code = match commands::run(args) {
        Ok(code) => code,
        Err(Exit { code, error }) => {
            eprintln!("error: {error:#}");
            ExitCode::from(code)
        }
    };
    report_peak_rss();
    code
}

/// With `DRAGNET_REPORT_PEAK_RSS` set, prints this process's peak resident memory (Linux
/// `VmHWM`) on stderr, for the benchmark harness: a parent's `ru_maxrss` is not reliable,
/// because Linux carries the high-water mark of the forking process across `exec`.
fn report_peak_rss() {
    if std::env::var_os("DRAGNET_REPORT_PEAK_RSS").is_none() {
        return;
    }
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    if let Some(kb) = status.lines().find_map(|l| l.strip_prefix("VmHWM:")) {
        eprintln!("dragnet-peak-rss-kb: {}", kb.trim().trim_end_matches(" kB"));
    }
}

fn init_logging(verbose: u8) {
    use tracing_subscriber::EnvFilter;
    let default = match verbose {
        0 => "warn",
        1 => "info",
        _ => "debug",
    };
    let filter = EnvFilter::try_from_env("DRAGNET_LOG").unwrap_or_else(|_| EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .try_init();
}
