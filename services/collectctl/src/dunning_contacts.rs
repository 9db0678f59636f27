//! `collectctl dunning contacts`: a debtor's contact details, time zone, language and conduct
//! profile (R-D9, R-D13), set and shown. Addresses go to the service in clear and come back
//! masked (R-O4); this tool never prints one it was given.

use clap::{Args, Subcommand};
use proto::dunning::v1 as api;
use proto::types::v1::ContactChannel;

use crate::cli::Outcome;
use crate::dunning_names::{Conn, channel_name, contact_channel, recipient_name, refused};
use crate::service;

#[derive(Args)]
pub(crate) struct ContactsArgs {
    #[command(flatten)]
    conn: Conn,
    #[command(subcommand)]
    command: ContactsCommand,
}

#[derive(Subcommand)]
enum ContactsCommand {
    /// Put the debtor's contact details on file. Replaces what is on file: give every
    /// contact point.
    Set {
        /// Customer id.
        customer_id: String,
        /// Name on notices (default: the name on the contract).
        #[arg(long)]
        name: Option<String>,
        /// IANA time zone of the debtor: quiet hours are their local time (default
        /// Asia/Shanghai).
        #[arg(long, value_name = "ZONE")]
        time_zone: Option<String>,
        /// Language of messages and notices (default zh-CN).
        #[arg(long, value_parser = ["zh-CN", "en"])]
        language: Option<String>,
        /// Conduct profile: cn (default) or us-regf (US Regulation F).
        #[arg(long, value_name = "PROFILE")]
        profile: Option<String>,
        /// A contact point, CHANNEL:ADDRESS[:debtor|designated]; channels sms, email, app,
        /// phone, letter; whose it is defaults to the debtor's own (a designated contact is
        /// only ever asked to pass on a call-back request). Repeat for several.
        #[arg(long = "contact", required = true, value_parser = parse_contact, value_name = "CHANNEL:ADDRESS[:WHOSE]")]
        contacts: Vec<ContactSpec>,
    },
    /// Show the debtor's contact details (addresses masked).
    Show {
        /// Customer id.
        customer_id: String,
    },
}

/// One `--contact` as given.
#[derive(Clone, Debug, PartialEq, Eq)]
struct ContactSpec {
    channel: ContactChannel,
    address: String,
    recipient: api::Recipient,
}

/// clap value parser of `--contact CHANNEL:ADDRESS[:debtor|designated]`. The address may hold
/// colons itself; a last part `debtor` or `designated` says whose it is. Errors never repeat
/// the address (R-O4).
fn parse_contact(given: &str) -> Result<ContactSpec, String> {
    let form = "give CHANNEL:ADDRESS[:debtor|designated], e.g. sms:13800138000 or email:li@example.com:designated";
    let Some((channel, rest)) = given.trim().split_once(':') else {
        return Err(format!("no channel before the address: {form}"));
    };
    let channel = contact_channel(channel)?;
    let (address, recipient) = match rest.rsplit_once(':') {
        Some((address, whose)) => match whose.trim().to_ascii_lowercase().as_str() {
            "debtor" => (address, api::Recipient::Debtor),
            "designated" | "designated-contact" => (address, api::Recipient::DesignatedContact),
            _ => (rest, api::Recipient::Debtor),
        },
        None => (rest, api::Recipient::Debtor),
    };
    let address = address.trim();
    if address.is_empty() {
        return Err(format!(
            "the {} contact has no address: {form}",
            channel_name(channel as i32)
        ));
    }
    Ok(ContactSpec {
        channel,
        address: address.to_owned(),
        recipient,
    })
}

fn to_json(c: &api::DebtorContacts) -> serde_json::Value {
    serde_json::json!({
        "customer_id": c.customer_id,
        "name": c.name,
        "time_zone": c.time_zone,
        "language": c.language,
        "conduct_profile": c.conduct_profile,
        "contacts": c.contacts.iter().map(|p| serde_json::json!({
            "channel": channel_name(p.channel),
            "address_masked": p.address,
            "recipient": recipient_name(p.recipient),
        })).collect::<Vec<_>>(),
    })
}

fn to_text(c: &api::DebtorContacts) -> String {
    let mut out = format!(
        "customer {}{}\ntime zone {}, language {}, conduct profile {}\ncontacts:",
        c.customer_id,
        if c.name.is_empty() {
            String::new()
        } else {
            format!("  {}", c.name)
        },
        c.time_zone,
        c.language,
        c.conduct_profile
    );
    if c.contacts.is_empty() {
        out.push_str(&format!(
            "\n  none on file: collectctl dunning contacts set {} --contact sms:NUMBER",
            c.customer_id
        ));
    }
    for p in &c.contacts {
        out.push_str(&format!(
            "\n  {:<7} {:<24} {}",
            channel_name(p.channel),
            p.address,
            match api::Recipient::try_from(p.recipient) {
                Ok(api::Recipient::DesignatedContact) => {
                    "designated contact (asked only to pass on a call-back request)"
                }
                _ => recipient_name(p.recipient),
            }
        ));
    }
    out
}

pub(crate) fn run(args: ContactsArgs) -> Outcome {
    let json = args.conn.json;
    service::block_on(async move {
        let mut client = service::dunning(args.conn.dunning).await?;
        let (shown, verb) = match args.command {
            ContactsCommand::Set {
                customer_id,
                name,
                time_zone,
                language,
                profile,
                contacts,
            } => {
                let request = api::SetContactsRequest {
                    contacts: Some(api::DebtorContacts {
                        customer_id,
                        time_zone: time_zone.unwrap_or_default(),
                        language: language.unwrap_or_default(),
                        conduct_profile: profile.unwrap_or_default(),
                        name: name.unwrap_or_default(),
                        contacts: contacts
                            .into_iter()
                            .map(|c| api::ContactPoint {
                                channel: c.channel as i32,
                                address: c.address,
                                recipient: c.recipient as i32,
                            })
                            .collect(),
                    }),
                };
                let answer = client.set_contacts(request).await.map_err(refused)?;
                (answer.into_inner().contacts, "on file now:\n")
            }
            ContactsCommand::Show { customer_id } => {
                let answer = client
                    .get_contacts(api::GetContactsRequest { customer_id })
                    .await
                    .map_err(refused)?;
                (answer.into_inner().contacts, "")
            }
        };
        let shown = shown.unwrap_or_default();
        if json {
            return Ok(serde_json::to_string_pretty(&to_json(&shown))?);
        }
        Ok(format!("{verb}{}", to_text(&shown)))
    })
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        args: ContactsArgs,
    }

    #[test]
    fn a_contact_is_channel_address_and_whose() {
        assert_eq!(
            parse_contact("sms:13800138000"),
            Ok(ContactSpec {
                channel: ContactChannel::Sms,
                address: "13800138000".to_owned(),
                recipient: api::Recipient::Debtor,
            })
        );
        let designated = parse_contact("email:li@example.com:designated").expect("parses");
        assert_eq!(designated.address, "li@example.com");
        assert_eq!(designated.recipient, api::Recipient::DesignatedContact);
        // A colon inside the address stays in it.
        let letter = parse_contact("letter:Room 5: Block 2:debtor").expect("parses");
        assert_eq!(letter.address, "Room 5: Block 2");
        assert_eq!(letter.channel, ContactChannel::Letter);
        assert_eq!(
            parse_contact("app:u:42").map(|c| c.address),
            Ok("u:42".to_owned())
        );
    }

    #[test]
    fn a_bad_contact_says_the_form_without_the_address() {
        let error = parse_contact("13912345678").unwrap_err();
        assert!(error.contains("CHANNEL:ADDRESS"), "{error}");
        assert!(!error.contains("13912345678"), "{error}");
        let error = parse_contact("fax:12345").unwrap_err();
        assert!(error.contains("sms, email, app, phone, letter"), "{error}");
        assert!(parse_contact("sms:").unwrap_err().contains("no address"));
    }

    #[test]
    fn set_takes_every_option_and_show_the_id() {
        let cli = Cli::try_parse_from([
            "x",
            "set",
            "C1",
            "--name",
            "王五",
            "--time-zone",
            "Asia/Shanghai",
            "--language",
            "en",
            "--profile",
            "us-regf",
            "--contact",
            "sms:13800138000",
            "--contact",
            "email:w@example.com:designated",
            "--json",
        ])
        .expect("parses");
        assert!(cli.args.conn.json);
        let ContactsCommand::Set {
            customer_id,
            contacts,
            language,
            ..
        } = cli.args.command
        else {
            panic!("set");
        };
        assert_eq!(customer_id, "C1");
        assert_eq!(language.as_deref(), Some("en"));
        assert_eq!(contacts.len(), 2);
        // A contact is required (set replaces the whole set), and the language is checked.
        assert!(Cli::try_parse_from(["x", "set", "C1"]).is_err());
        assert!(
            Cli::try_parse_from(["x", "set", "C1", "--contact", "sms:1", "--language", "fr"])
                .is_err()
        );
        let cli = Cli::try_parse_from(["x", "show", "C1"]).expect("parses");
        assert!(matches!(cli.args.command, ContactsCommand::Show { .. }));
    }

    #[test]
    fn the_text_shows_masked_addresses_and_whose_they_are() {
        let text = to_text(&api::DebtorContacts {
            customer_id: "C1".to_owned(),
            time_zone: "Asia/Shanghai".to_owned(),
            language: "zh-CN".to_owned(),
            conduct_profile: "cn".to_owned(),
            name: "王五".to_owned(),
            contacts: vec![
                api::ContactPoint {
                    channel: ContactChannel::Sms as i32,
                    address: "138****8000".to_owned(),
                    recipient: api::Recipient::Debtor as i32,
                },
                api::ContactPoint {
                    channel: ContactChannel::Email as i32,
                    address: "w***@example.com".to_owned(),
                    recipient: api::Recipient::DesignatedContact as i32,
                },
            ],
        });
        assert!(
            text.starts_with("customer C1  王五\ntime zone Asia/Shanghai"),
            "{text}"
        );
        assert!(text.contains("sms     138****8000"), "{text}");
        assert!(text.contains("designated contact"), "{text}");
        let none = to_text(&api::DebtorContacts {
            customer_id: "C2".to_owned(),
            ..Default::default()
        });
        assert!(none.contains("none on file"), "{none}");
    }
}
