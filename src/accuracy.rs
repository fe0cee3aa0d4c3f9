//! `dragnet identifiers accuracy`: scores every managed identifier on a labelled corpus and
//! prints precision and recall, as a table or as the README's Markdown.

use std::io::Write;
use std::process::ExitCode;

use anyhow::{Context, Result};
use dragnet_detect::accuracy::{evaluate, Case, Evaluation, Score};
use dragnet_detect::catalog::managed;
use dragnet_detect::{AllowMatcher, Engine, ManagedIdentifier, MANAGED};

use crate::cli::AccuracyArgs;
use crate::Exit;

/// What the issue asks of the engine (and `--check` enforces): 0.98 for identifiers a
/// validator checks, 0.90 for names and addresses in CSV columns.
fn threshold(id: &str) -> Option<f64> {
    match id {
        "NAME" | "ADDRESS" => Some(0.90),
        _ => managed(id).filter(|m| m.validator.is_some()).map(|_| 0.98),
    }
}

/// The corpus file's cases and the line each came from.
fn read_corpus(args: &AccuracyArgs) -> Result<(Vec<Case>, Vec<usize>)> {
    let path = &args.corpus;
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading the corpus {}", path.display()))?;
    let (mut cases, mut lines) = (Vec::new(), Vec::new());
    for (n, line) in text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let at = || format!("{} line {}", path.display(), n + 1);
        let doc: serde_json::Value = serde_json::from_str(line).with_context(at)?;
        let text = doc["text"]
            .as_str()
            .with_context(|| format!("{}: no \"text\"", at()))?;
        let labels = doc["labels"]
            .as_array()
            .with_context(|| format!("{}: no \"labels\" array", at()))?
            .iter()
            .map(|l| l.as_str().map(str::to_string))
            .collect::<Option<Vec<_>>>()
            .with_context(|| format!("{}: labels must be identifier ids", at()))?;
        for label in &labels {
            if managed(label).is_none() {
                anyhow::bail!("{}: {label:?} is not a managed identifier id", at());
            }
        }
        lines.push(n + 1);
        cases.push(Case {
            column: doc["column"].as_str().map(str::to_string),
            text: text.to_string(),
            labels,
        });
    }
    Ok((cases, lines))
}

/// Runs the command.
pub fn run(args: &AccuracyArgs) -> Result<ExitCode, Exit> {
    let (cases, lines) = read_corpus(args)?;
    let all: Vec<&ManagedIdentifier> = MANAGED.iter().collect();
    let engine = Engine::new(&all, &[], AllowMatcher::default()).map_err(anyhow::Error::from)?;
    let Evaluation {
        scores,
        total,
        misjudged,
    } = evaluate(&engine, &cases);
    let mut out = std::io::stdout().lock();
    let row = |id: &str, s: &Score| {
        let labelled = s.true_positives + s.false_negatives;
        (
            id.to_string(),
            labelled,
            s.precision(),
            s.recall(),
            threshold(id),
        )
    };
    let mut rows: Vec<_> = scores.iter().map(|(id, s)| row(id, s)).collect();
    rows.push(row("all", &total));
    let markdown = args.format == "markdown";
    if markdown {
        writeln!(
            out,
            "| identifier | labelled cases | precision | recall | target |"
        )
        .and_then(|_| writeln!(out, "|---|---:|---:|---:|---:|"))
        .map_err(anyhow::Error::from)?;
    }
    let mut below = Vec::new();
    for (id, labelled, precision, recall, target) in &rows {
        let target_text = target.map_or("—".to_string(), |t| format!("{t:.2}"));
        if target.is_some_and(|t| *precision < t || *recall < t) {
            below.push(id.clone());
        }
        let line = if markdown {
            format!("| `{id}` | {labelled} | {precision:.3} | {recall:.3} | {target_text} |")
        } else {
            format!("{id:<44} {labelled:>5} cases  precision {precision:.3}  recall {recall:.3}  target {target_text}")
        };
        writeln!(out, "{line}").map_err(anyhow::Error::from)?;
    }
    if !markdown {
        writeln!(out, "{} cases from {}", cases.len(), args.corpus.display())
            .map_err(anyhow::Error::from)?;
    }
    if args.errors {
        for wrong in misjudged {
            writeln!(
                out,
                "line {}: missed [{}] unexpected [{}]",
                lines[wrong.index],
                wrong.missed.join(", "),
                wrong.unexpected.join(", ")
            )
            .map_err(anyhow::Error::from)?;
        }
    }
    if args.check && !below.is_empty() {
        return Err(Exit::failed(anyhow::anyhow!(
            "under target: {}",
            below.join(", ")
        )));
    }
    Ok(ExitCode::SUCCESS)
}
