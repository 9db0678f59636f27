//! `collectctl auth token`: a token for the local stack, signed with its throwaway key, so
//! the README's commands and `buf curl` work with authentication on (R-O3). In a deployment,
//! tokens come from the identity provider; this command only knows the local stack's key.

use std::time::Duration;

use clap::{Args, Subcommand};
use kit::auth::Role;
use kit::auth::token::LocalAuth;

use crate::cli::{Failure, Hint, Outcome};
use crate::service;

#[derive(Args)]
pub(crate) struct AuthArgs {
    /// Print JSON instead of the bare token.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: AuthCommand,
}

#[derive(Subcommand)]
enum AuthCommand {
    /// Mint a token for the local stack (reads $COLLECTIONS_AUTH_DIR, default
    /// ~/.collections/local). Prints only the token, for $(…).
    Token {
        /// A role: cashier, collector, supervisor, risk, legal, auditor, admin,
        /// bank-integration, service. Repeat for several.
        #[arg(long = "role", required = true)]
        roles: Vec<String>,
        /// Who the token names (the `sub` claim), e.g. a staff id.
        #[arg(long)]
        subject: String,
        /// The team (supervisors see their team's customers).
        #[arg(long)]
        team: Option<String>,
        /// How long it is valid: e.g. 30m, 8h, 1d (default 8h).
        #[arg(long, default_value = "8h")]
        ttl: String,
    },
}

fn parse_ttl(text: &str) -> Result<Duration, Failure> {
    let hint = "give --ttl as a number and a unit: 90s, 30m, 8h or 1d (at most 7d)";
    let (number, unit) = text.split_at(
        text.find(|c: char| !c.is_ascii_digit())
            .unwrap_or(text.len()),
    );
    let n: u64 = number.parse().hint(hint)?;
    let seconds = match unit {
        "s" => n,
        "m" => n * 60,
        "h" => n * 3600,
        "d" => n * 86_400,
        _ => {
            return Err(Failure::with_hint(
                anyhow::anyhow!("--ttl {text:?} has no unit"),
                hint,
            ));
        }
    };
    if seconds == 0 || seconds > 7 * 86_400 {
        return Err(Failure::with_hint(
            anyhow::anyhow!("--ttl {text:?} is out of range"),
            hint,
        ));
    }
    Ok(Duration::from_secs(seconds))
}

pub(crate) fn run(args: AuthArgs) -> Outcome {
    match args.command {
        AuthCommand::Token {
            roles,
            subject,
            team,
            ttl,
        } => {
            let roles = roles
                .iter()
                .map(|r| r.parse::<Role>())
                .collect::<Result<Vec<_>, _>>()
                .hint("--role takes one of the platform's roles")?;
            if subject.trim().is_empty() {
                return Err(Failure::with_hint(
                    anyhow::anyhow!("--subject is empty"),
                    "name who the token is for, e.g. --subject clerk-7",
                ));
            }
            let ttl = parse_ttl(&ttl)?;
            let dir = service::local_auth_dir();
            let local = LocalAuth::load(&dir)?;
            let token = local.mint(subject.trim(), &roles, team.as_deref(), ttl)?;
            if args.json {
                Ok(serde_json::to_string_pretty(&serde_json::json!({
                    "token": token,
                    "subject": subject.trim(),
                    "roles": roles.iter().map(|r| r.as_str()).collect::<Vec<_>>(),
                    "team": team,
                    "issuer": local.issuer,
                    "expires_in_seconds": ttl.as_secs(),
                }))?)
            } else {
                Ok(token)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ttls_read_with_units_and_bounds() {
        assert_eq!(parse_ttl("90s").ok(), Some(Duration::from_secs(90)));
        assert_eq!(parse_ttl("8h").ok(), Some(Duration::from_secs(8 * 3600)));
        assert_eq!(parse_ttl("1d").ok(), Some(Duration::from_secs(86_400)));
        for bad in ["", "8", "h", "0m", "8w", "30d", "-1h"] {
            assert!(parse_ttl(bad).is_err(), "{bad}");
        }
    }
}
