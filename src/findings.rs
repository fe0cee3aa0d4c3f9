//! `dragnet tokens` and `dragnet findings`: the API's tokens and the findings queries from the
//! command line, over the same job store and the same query code as `dragnet serve`.

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::process::ExitCode;

use anyhow::{anyhow, Context};
use dragnet_findings::investigations::{merged, InvestigationKind};
use dragnet_findings::query::list_all;
use dragnet_findings::{statistics, ListRequest, Role, SortCriteria, Source};
use dragnet_model::Timestamp;
use serde_json::{json, Value};

use crate::cli::{FindingsCommand, TokensCommand};
use crate::job_store::Access;
use crate::jobs::open;
use crate::Exit;

fn out(line: impl std::fmt::Display) -> Result<(), Exit> {
    writeln!(io::stdout().lock(), "{line}").map_err(|e| Exit::from(anyhow!(e)))
}

/// Runs a `tokens` command.
pub fn tokens(cmd: TokensCommand) -> Result<ExitCode, Exit> {
    match cmd {
        TokensCommand::Create {
            name,
            role,
            reads_isolation,
            common,
        } => {
            let role: Role = role.parse().map_err(anyhow::Error::from)?;
            if name.trim().is_empty() || name.len() > 128 {
                return Err(anyhow!("--name: give 1 to 128 characters").into());
            }
            let (_, store) = open(common.config.as_deref(), Access::Write)?;
            let token =
                dragnet_api::new_token(name.trim(), role, reads_isolation, Timestamp::now())
                    .context("the OS gave no randomness for a token")?;
            store
                .create_token(&token.record)
                .map_err(anyhow::Error::from)?;
            store.save()?;
            let mut shown = dragnet_api::token_summary(&token.record);
            shown["token"] = json!(token.secret);
            out(shown)?;
            eprintln!("Store the token now: it is not shown again (only its SHA-256 is kept).");
            Ok(ExitCode::SUCCESS)
        }
        TokensCommand::List { common } => {
            let (_, store) = open(common.config.as_deref(), Access::Read)?;
            for t in store.tokens().map_err(anyhow::Error::from)? {
                out(dragnet_api::token_summary(&t))?;
            }
            Ok(ExitCode::SUCCESS)
        }
        TokensCommand::Revoke { id, common } => {
            let (_, store) = open(common.config.as_deref(), Access::Write)?;
            if !store
                .revoke_token(&id, Timestamp::now())
                .map_err(anyhow::Error::from)?
            {
                return Err(
                    anyhow!("token {id} does not exist (dragnet tokens list shows them)").into(),
                );
            }
            store.save()?;
            eprintln!("token {id} revoked");
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn parse_params(params: &[String]) -> Result<BTreeMap<String, String>, Exit> {
    params
        .iter()
        .map(|p| {
            p.split_once('=')
                .map(|(k, v)| (k.trim().to_string(), v.to_string()))
                .ok_or_else(|| anyhow!("--param {p:?}: expected NAME=VALUE").into())
        })
        .collect()
}

fn table_row(f: &Value) -> String {
    format!(
        "{:<7} {:<40} {:<28} {}",
        f["severity"]["description"].as_str().unwrap_or(""),
        f["type"].as_str().unwrap_or(""),
        f["createdAt"].as_str().unwrap_or(""),
        f["resourcesAffected"]["s3Object"]["path"]
            .as_str()
            .unwrap_or(""),
    )
}

fn failure_row(f: &Value) -> String {
    format!(
        "{:<26} s3://{}/{}  rule {}: {}",
        f["time"].as_str().unwrap_or(""),
        f["bucket"].as_str().unwrap_or(""),
        f["key"].as_str().unwrap_or(""),
        f["rule"].as_str().unwrap_or(""),
        f["error"].as_str().unwrap_or(""),
    )
}

/// Runs a `findings` command.
pub fn findings(cmd: FindingsCommand) -> Result<ExitCode, Exit> {
    match cmd {
        FindingsCommand::List {
            criteria,
            sort,
            desc,
            max,
            common,
        } => {
            let (_, store) = open(common.config.as_deref(), Access::Read)?;
            let findings: Vec<Value> = store
                .findings()
                .map_err(anyhow::Error::from)?
                .into_iter()
                .map(|s| s.finding)
                .collect();
            let finding_criteria = match criteria {
                Some(text) => serde_json::from_str(&text)
                    .map_err(|e| anyhow!("--criteria is not JSON: {e}"))?,
                None => Value::Null,
            };
            let request = ListRequest {
                finding_criteria,
                sort_criteria: sort.map(|attribute_name| SortCriteria {
                    attribute_name,
                    order_by: Some(if desc { "DESC" } else { "ASC" }.into()),
                }),
                max_results: None,
                next_token: None,
            };
            let all =
                list_all(&findings, &request, Timestamp::now()).map_err(anyhow::Error::from)?;
            for f in all.iter().take(max.unwrap_or(usize::MAX)) {
                out(f)?;
            }
            Ok(ExitCode::SUCCESS)
        }
        FindingsCommand::Query {
            name,
            params,
            format,
            common,
        } => {
            let (config, store) = open(common.config.as_deref(), Access::Read)?;
            let investigation = merged(&config.investigations)
                .into_iter()
                .find(|i| i.name == name)
                .ok_or_else(|| {
                    anyhow!("no investigation named {name:?} (dragnet findings investigations lists them)")
                })?;
            let kind = investigation
                .instantiate(&parse_params(&params)?)
                .map_err(anyhow::Error::from)?;
            let findings: Vec<Value> = match investigation.source {
                Source::Findings => store
                    .findings()
                    .map_err(anyhow::Error::from)?
                    .into_iter()
                    .map(|s| s.finding)
                    .collect(),
                Source::QuarantineFailures => {
                    crate::api_backend::quarantine_failures(&config).map_err(anyhow::Error::from)?
                }
            };
            let now = Timestamp::now();
            match kind {
                InvestigationKind::List(request) => {
                    let all = list_all(&findings, &request, now).map_err(anyhow::Error::from)?;
                    for f in &all {
                        out(match (format.as_str(), investigation.source) {
                            ("json", _) => f.to_string(),
                            (_, Source::Findings) => table_row(f),
                            (_, Source::QuarantineFailures) => failure_row(f),
                        })?;
                    }
                    if format == "table" {
                        eprintln!("{} findings", all.len());
                    }
                }
                InvestigationKind::Statistics(request) => {
                    let stats =
                        statistics(&findings, &request, now).map_err(anyhow::Error::from)?;
                    if format == "json" {
                        out(&stats)?;
                    } else {
                        for g in stats["countsByGroup"].as_array().into_iter().flatten() {
                            out(format!(
                                "{:>8}  {}",
                                g["count"],
                                g["groupKey"].as_str().unwrap_or("")
                            ))?;
                        }
                    }
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        FindingsCommand::Investigations { common } => {
            let (config, _) = open(common.config.as_deref(), Access::Read)?;
            for i in merged(&config.investigations) {
                out(i.summary())?;
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}
