//! `collectctl contact-log`: the dunning service's tamper-evident contact log (R-D4, R-L8):
//! list it (one customer's, or every entry the caller may see: a collector their own customers', auditors all) and verify it
//! against its hash chain and the latest signed checkpoint. `verify` exits with status 1 when
//! the log is not intact, naming the problem and the entry, so a scheduler can alert on it.

use anyhow::anyhow;
use clap::{Args, Subcommand};
use proto::dunning::v1 as api;

use crate::cli::{Failure, Outcome};
use crate::dunning_names::{Conn, channel_name, outcome_name, refused};
use crate::service;

#[derive(Args)]
pub(crate) struct ContactLogArgs {
    #[command(flatten)]
    conn: Conn,
    #[command(subcommand)]
    command: ContactLogCommand,
}

#[derive(Subcommand)]
enum ContactLogCommand {
    /// Entries in order (all pages): one customer's, or all the caller may see (R-O3).
    List {
        /// Only this customer's.
        #[arg(long, value_name = "ID")]
        customer: Option<String>,
    },
    /// Check the log against its hash chain and the latest signed checkpoint; exit status 1
    /// when it is not intact.
    Verify,
}

fn to_json(e: &api::ContactLogEntry) -> serde_json::Value {
    serde_json::json!({
        "seq": e.seq,
        "case_id": e.case_id,
        "customer_id": e.customer_id,
        "channel": channel_name(e.channel),
        "at": e.at,
        "actor": e.actor,
        "template": e.template,
        "language": e.language,
        "content_sha256": e.content_sha256,
        "outcome": outcome_name(e.outcome),
        "proof_kind": e.proof_kind,
        "proof_value": e.proof_value,
        "hash": e.hash,
    })
}

fn to_line(e: &api::ContactLogEntry) -> String {
    let mut line = format!(
        "#{:<5} {}  {:<6} {:<12} by {:<12} customer {}  template {}",
        e.seq,
        e.at,
        channel_name(e.channel),
        outcome_name(e.outcome),
        e.actor,
        e.customer_id,
        e.template
    );
    if !e.proof_kind.is_empty() {
        line.push_str(&format!("  proof {}: {}", e.proof_kind, e.proof_value));
    }
    line
}

/// What to do about each problem `VerifyContactLog` names.
fn next_step(problem: &str) -> &'static str {
    match problem {
        "EDITED" => "restore that row from backup or investigate who changed it",
        "DELETED" => {
            "an entry is missing there: restore it from backup and investigate who removed it"
        }
        "INSERTED" => {
            "an entry the service did not write: investigate who added it and keep it as evidence"
        }
        "REORDERED" => "restore the original order from backup and investigate who changed it",
        "CHECKPOINT_MISMATCH" => {
            "the log no longer matches its signed checkpoint: compare with the backup taken at the checkpoint and investigate who changed it"
        }
        "BAD_SIGNATURE" => {
            "the checkpoint's signature does not verify: check the service's DUNNING_CONTACT_LOG_KEY and whether the checkpoint row was changed"
        }
        "UNKNOWN_KEY" => {
            "verify the checkpoint against the public key in its ContactLogCheckpointed event"
        }
        "UNREADABLE" => "a row cannot be read: restore it from backup",
        _ => "investigate with the detail above and tell the auditors",
    }
}

/// The checkpoint, in words.
fn checkpoint_words(v: &api::VerifyContactLogResponse) -> String {
    if v.checkpoint_seq == 0 {
        return "no signed checkpoint yet (the service seals the log every DUNNING_CHECKPOINT_SECS)"
            .to_owned();
    }
    let mut words = format!(
        "latest signed checkpoint through entry {} at {}",
        v.checkpoint_seq, v.checkpoint_at
    );
    if v.entries > v.checkpoint_seq {
        words.push_str(&format!(
            "; entries after {} are chained, not yet under a checkpoint",
            v.checkpoint_seq
        ));
    }
    words
}

/// The verdict in text, or the failure naming the problem, the entry and what to do.
fn verdict(v: &api::VerifyContactLogResponse) -> Result<String, (String, String)> {
    if v.intact {
        return Ok(format!(
            "contact log intact: {} entries; {}",
            v.entries,
            checkpoint_words(v)
        ));
    }
    let problem = if v.problem.is_empty() {
        "UNKNOWN"
    } else {
        v.problem.as_str()
    };
    Err((
        format!(
            "contact log NOT intact: {problem} at entry {}: {}; {}",
            v.at_seq,
            v.detail,
            next_step(problem)
        ),
        format!("the log has {} entries; {}", v.entries, checkpoint_words(v)),
    ))
}

fn verify_json(v: &api::VerifyContactLogResponse) -> serde_json::Value {
    serde_json::json!({
        "intact": v.intact,
        "entries": v.entries,
        "checkpoint_seq": v.checkpoint_seq,
        "checkpoint_at": v.checkpoint_at,
        "problem": v.problem,
        "at_seq": v.at_seq,
        "detail": v.detail,
    })
}

pub(crate) fn run(args: ContactLogArgs) -> Outcome {
    let json = args.conn.json;
    service::block_on(async move {
        let mut client = service::dunning(args.conn.dunning).await?;
        match args.command {
            ContactLogCommand::List { customer } => {
                let customer_id = customer.unwrap_or_default();
                let entries = service::all_pages_with(refused, |page_token| {
                    let mut client = client.clone();
                    let request = api::ListContactLogRequest {
                        customer_id: customer_id.clone(),
                        page_size: 1000,
                        page_token,
                    };
                    async move {
                        let page = client.list_contact_log(request).await?.into_inner();
                        Ok((page.entries, page.next_page_token))
                    }
                })
                .await?;
                if json {
                    return Ok(serde_json::to_string_pretty(
                        &entries.iter().map(to_json).collect::<Vec<_>>(),
                    )?);
                }
                if entries.is_empty() {
                    return Ok("no contact-log entries".to_owned());
                }
                Ok(entries.iter().map(to_line).collect::<Vec<_>>().join("\n"))
            }
            ContactLogCommand::Verify => {
                let v = client
                    .verify_contact_log(api::VerifyContactLogRequest {})
                    .await
                    .map_err(refused)?
                    .into_inner();
                let document = serde_json::to_string_pretty(&verify_json(&v))?;
                match verdict(&v) {
                    Ok(text) => Ok(if json { document } else { text }),
                    Err((error, hint)) => {
                        let failure = Failure::with_hint(anyhow!(error), hint);
                        Err(if json {
                            failure.with_document(document)
                        } else {
                            failure
                        })
                    }
                }
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        args: ContactLogArgs,
    }

    #[test]
    fn list_and_verify_parse() {
        let cli = Cli::try_parse_from(["contact-log", "list", "--customer", "C1", "--json"])
            .expect("parses");
        assert!(cli.args.conn.json);
        assert!(matches!(
            cli.args.command,
            ContactLogCommand::List { customer: Some(ref c) } if c == "C1"
        ));
        let cli = Cli::try_parse_from(["contact-log", "verify"]).expect("parses");
        assert!(matches!(cli.args.command, ContactLogCommand::Verify));
    }

    #[test]
    fn an_intact_log_gives_its_size_and_checkpoint() {
        let v = api::VerifyContactLogResponse {
            intact: true,
            entries: 12,
            checkpoint_seq: 9,
            checkpoint_at: "2026-03-03T00:10:00+00:00".to_owned(),
            ..Default::default()
        };
        assert_eq!(
            verdict(&v),
            Ok("contact log intact: 12 entries; latest signed checkpoint through entry 9 at 2026-03-03T00:10:00+00:00; entries after 9 are chained, not yet under a checkpoint".to_owned())
        );
        let fresh = api::VerifyContactLogResponse {
            intact: true,
            ..Default::default()
        };
        assert!(verdict(&fresh).is_ok_and(|t| t.contains("no signed checkpoint yet")));
    }

    #[test]
    fn a_broken_log_names_the_problem_the_entry_and_what_to_do() {
        let v = api::VerifyContactLogResponse {
            intact: false,
            entries: 5,
            checkpoint_seq: 4,
            checkpoint_at: "2026-03-03T00:10:00+00:00".to_owned(),
            problem: "EDITED".to_owned(),
            at_seq: 3,
            detail: "entry 3 does not match its hash".to_owned(),
        };
        let (error, hint) = verdict(&v).expect_err("not intact");
        assert_eq!(
            error,
            "contact log NOT intact: EDITED at entry 3: entry 3 does not match its hash; restore that row from backup or investigate who changed it"
        );
        assert!(
            hint.contains("5 entries") && hint.contains("through entry 4"),
            "{hint}"
        );
        assert_eq!(verify_json(&v)["problem"], "EDITED");
        for problem in [
            "DELETED",
            "INSERTED",
            "REORDERED",
            "CHECKPOINT_MISMATCH",
            "BAD_SIGNATURE",
        ] {
            assert_ne!(next_step(problem), next_step("SOMETHING_NEW"), "{problem}");
        }
    }

    #[test]
    fn an_entry_line_has_seq_channel_outcome_and_actor() {
        let line = to_line(&api::ContactLogEntry {
            seq: 3,
            channel: proto::types::v1::ContactChannel::PhoneCall as i32,
            outcome: proto::types::v1::ContactOutcome::Answered as i32,
            actor: "li.na".to_owned(),
            at: "2026-03-03T00:05:00+00:00".to_owned(),
            template: "manual".to_owned(),
            customer_id: "C1".to_owned(),
            ..Default::default()
        });
        assert!(
            line.starts_with("#3     2026-03-03T00:05:00+00:00  phone  answered"),
            "{line}"
        );
        assert!(line.contains("by li.na"), "{line}");
    }
}
