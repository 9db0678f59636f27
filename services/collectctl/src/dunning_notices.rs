//! `collectctl dunning notices`: the written notices of a debtor (R-D3) and one notice's
//! documents, saved to files after checking the PDF against the SHA-256 recorded when it was
//! issued. An existing file is never overwritten without `--force`.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::anyhow;
use clap::{Args, Subcommand};
use proto::dunning::v1 as api;
use sha2::{Digest, Sha256};

use crate::cli::{Failure, Hint, Outcome};
use crate::dunning_names::{Conn, money, refused};
use crate::service;

#[derive(Args)]
pub(crate) struct NoticesArgs {
    #[command(flatten)]
    conn: Conn,
    #[command(subcommand)]
    command: NoticesCommand,
}

#[derive(Subcommand)]
enum NoticesCommand {
    /// A debtor's notices, oldest first.
    List {
        /// Customer id.
        customer_id: String,
    },
    /// One notice: its amounts and hash; --pdf / --html save the documents.
    Get {
        /// Notice id (from `collectctl dunning notices list`).
        notice_id: String,
        /// Write the PDF here.
        #[arg(long, value_name = "FILE")]
        pdf: Option<PathBuf>,
        /// Write the HTML here.
        #[arg(long, value_name = "FILE")]
        html: Option<PathBuf>,
        /// Overwrite the files if they exist.
        #[arg(long)]
        force: bool,
    },
}

fn to_json(n: &api::Notice) -> serde_json::Value {
    serde_json::json!({
        "notice_id": n.notice_id,
        "number": n.number,
        "customer_id": n.customer_id,
        "case_id": n.case_id,
        "step": n.step,
        "occurrence": n.occurrence,
        "business_date": n.business_date,
        "total": n.total.as_ref().map(|m| m.amount.clone()),
        "fee": n.fee.as_ref().map(|m| m.amount.clone()),
        "currency": n.total.as_ref().map(|m| m.currency.clone()),
        "pay_by": n.pay_by,
        "language": n.language,
        "sha256": n.sha256,
    })
}

/// A notice in text: which one, the amounts, the date to pay by and the hash.
fn to_text(n: &api::Notice) -> String {
    format!(
        "notice {} ({}): {} no. {} of {} for customer {} (case {}, {})\n    total {}, of which fee {}; pay by {}\n    sha256 {}",
        n.number,
        n.notice_id,
        n.step,
        n.occurrence,
        n.business_date,
        n.customer_id,
        n.case_id,
        n.language,
        money(n.total.as_ref()),
        money(n.fee.as_ref()),
        n.pay_by,
        n.sha256
    )
}

/// Refuses a file that exists unless `force`; checked before anything is fetched.
fn check_free(path: &Path, force: bool) -> Result<(), Failure> {
    if !force && path.exists() {
        return Err(Failure::with_hint(
            anyhow!("{} exists already", path.display()),
            "give another file name, or --force to overwrite it",
        ));
    }
    Ok(())
}

fn write_file(path: &Path, bytes: &[u8], force: bool) -> Result<(), Failure> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true);
    if force {
        options.create(true).truncate(true);
    } else {
        // Not `create`: a file that appeared since the check is not overwritten either.
        options.create_new(true);
    }
    options
        .open(path)
        .and_then(|mut f| f.write_all(bytes))
        .hint(format!(
            "cannot write {}: check the directory exists and is writable (or give --force for an existing file)",
            path.display()
        ))
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

pub(crate) fn run(args: NoticesArgs) -> Outcome {
    let json = args.conn.json;
    if let NoticesCommand::Get {
        pdf, html, force, ..
    } = &args.command
    {
        for path in pdf.iter().chain(html.iter()) {
            check_free(path, *force)?;
        }
    }
    service::block_on(async move {
        let mut client = service::dunning(args.conn.dunning).await?;
        match args.command {
            NoticesCommand::List { customer_id } => {
                let notices = service::all_pages_with(refused, |page_token| {
                    let mut client = client.clone();
                    let request = api::ListNoticesRequest {
                        customer_id: customer_id.clone(),
                        page_size: 200,
                        page_token,
                    };
                    async move {
                        let page = client.list_notices(request).await?.into_inner();
                        Ok((page.notices, page.next_page_token))
                    }
                })
                .await?;
                if json {
                    return Ok(serde_json::to_string_pretty(
                        &notices.iter().map(to_json).collect::<Vec<_>>(),
                    )?);
                }
                if notices.is_empty() {
                    return Ok(format!("no notices for customer {customer_id}"));
                }
                Ok(notices.iter().map(to_text).collect::<Vec<_>>().join("\n"))
            }
            NoticesCommand::Get {
                notice_id,
                pdf,
                html,
                force,
            } => {
                let answer = client
                    .get_notice(api::GetNoticeRequest { notice_id })
                    .await
                    .map_err(refused)?
                    .into_inner();
                let notice = answer.notice.unwrap_or_default();
                let actual = sha256_hex(&answer.pdf);
                if !actual.eq_ignore_ascii_case(&notice.sha256) {
                    return Err(Failure::with_hint(
                        anyhow!(
                            "the PDF of notice {} does not match the SHA-256 recorded when it was issued (recorded {}, received {actual})",
                            notice.notice_id,
                            notice.sha256
                        ),
                        "do not use this document: report it, and check the contact log with `collectctl contact-log verify`",
                    ));
                }
                let mut written = Vec::new();
                if let Some(path) = &pdf {
                    write_file(path, &answer.pdf, force)?;
                    written.push((path.display().to_string(), answer.pdf.len()));
                }
                if let Some(path) = &html {
                    write_file(path, answer.html.as_bytes(), force)?;
                    written.push((path.display().to_string(), answer.html.len()));
                }
                if json {
                    let mut json = to_json(&notice);
                    json["pdf_file"] = serde_json::json!(pdf.map(|p| p.display().to_string()));
                    json["html_file"] = serde_json::json!(html.map(|p| p.display().to_string()));
                    return Ok(serde_json::to_string_pretty(&json)?);
                }
                let mut out = format!("{} (the PDF matches it)", to_text(&notice));
                for (path, bytes) in &written {
                    out.push_str(&format!("\nwrote {path} ({bytes} bytes)"));
                }
                if written.is_empty() {
                    out.push_str("\nsave the documents with --pdf FILE and --html FILE");
                }
                Ok(out)
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
        args: NoticesArgs,
    }

    #[test]
    fn get_takes_the_files_and_force() {
        let cli = Cli::try_parse_from([
            "notices", "get", "N1", "--pdf", "n.pdf", "--html", "n.html", "--force", "--json",
        ])
        .expect("parses");
        assert!(cli.args.conn.json);
        let NoticesCommand::Get {
            notice_id,
            pdf,
            force,
            ..
        } = cli.args.command
        else {
            panic!("get");
        };
        assert_eq!(notice_id, "N1");
        assert_eq!(pdf, Some(PathBuf::from("n.pdf")));
        assert!(force);
    }

    #[test]
    fn an_existing_file_is_refused_without_force() {
        let dir = std::env::temp_dir().join(format!("notices-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let path = dir.join("n.pdf");
        std::fs::write(&path, b"old").expect("write");
        let failure = check_free(&path, false).expect_err("refused");
        assert!(failure.describe().contains("exists already"));
        assert!(check_free(&path, true).is_ok());
        assert!(write_file(&path, b"new", false).is_err());
        write_file(&path, b"new", true).expect("forced");
        assert_eq!(std::fs::read(&path).expect("read"), b"new");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_notice_in_text_has_the_amounts_pay_by_and_hash() {
        let text = to_text(&api::Notice {
            notice_id: "N1".to_owned(),
            customer_id: "C1".to_owned(),
            case_id: "K1".to_owned(),
            step: "notice".to_owned(),
            occurrence: 2,
            business_date: "2026-04-20".to_owned(),
            total: Some(proto::types::v1::Money {
                amount: "9550.00".to_owned(),
                currency: "CNY".to_owned(),
            }),
            fee: Some(proto::types::v1::Money {
                amount: "50.00".to_owned(),
                currency: "CNY".to_owned(),
            }),
            sha256: sha256_hex(b"pdf"),
            pay_by: "2026-05-05".to_owned(),
            language: "zh-CN".to_owned(),
            number: "DN-2026-000007".to_owned(),
        });
        assert!(
            text.starts_with("notice DN-2026-000007 (N1): notice no. 2 of 2026-04-20"),
            "{text}"
        );
        assert!(
            text.contains("total 9550.00 CNY, of which fee 50.00 CNY; pay by 2026-05-05"),
            "{text}"
        );
        assert!(text.contains(&sha256_hex(b"pdf")), "{text}");
    }
}
