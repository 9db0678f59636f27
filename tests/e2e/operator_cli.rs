//! `collectctl` against a running stack (R-O3): it needs a token, mints one for the local
//! stack, sends it over TLS, shows the audit trail to auditors, reassigns owners as a
//! supervisor, and turns refusals into what to do next.

use std::process::{Command, Output};

use crate::helpers::{OrLogs, start};

pub(crate) fn collectctl(stack: &devstack::Stack, token: Option<&str>, args: &[&str]) -> Output {
    let bin = devstack::process::bin_dir()
        .expect("bin dir")
        .join("collectctl");
    let mut command = Command::new(&bin);
    command
        .args(args)
        .env("COLLECTIONS_AUTH_DIR", &stack.auth.dir)
        .env_remove("COLLECTIONS_TOKEN")
        .env_remove("COLLECTIONS_CA_FILE");
    for (service, variable) in [
        ("contracts", "CONTRACTS_URL"),
        ("payments", "PAYMENTS_URL"),
        ("scoring", "SCORING_URL"),
        ("dunning", "DUNNING_URL"),
        ("legal", "LEGAL_URL"),
        ("reporting", "REPORTING_URL"),
    ] {
        command.env(variable, stack.endpoint(service).expect("endpoint"));
    }
    if let Some(token) = token {
        command.env("COLLECTIONS_TOKEN", token);
    }
    command
        .output()
        .unwrap_or_else(|e| panic!("running {}: {e}; build the binaries first", bin.display()))
}

/// Runs collectctl, fails the test with its stderr unless it succeeded, and answers stdout.
pub(crate) fn collectctl_ok(stack: &devstack::Stack, token: &str, args: &[&str]) -> String {
    let out = collectctl(stack, Some(token), args);
    assert!(
        out.status.success(),
        "collectctl {args:?} failed:\n{}",
        text(&out.stderr)
    );
    text(&out.stdout)
}

pub(crate) fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A token for `subject` in `role` on `team` (`collectctl auth token … --team`).
pub(crate) fn team_token(stack: &devstack::Stack, role: &str, subject: &str, team: &str) -> String {
    token(
        stack,
        &[
            "auth",
            "token",
            "--role",
            role,
            "--subject",
            subject,
            "--team",
            team,
        ],
    )
}

pub(crate) fn token(stack: &devstack::Stack, args: &[&str]) -> String {
    let out = collectctl(stack, None, args);
    assert!(out.status.success(), "{}", text(&out.stderr));
    text(&out.stdout).trim().to_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn collectctl_authenticates_audits_and_reassigns() {
    let (stack, _admin) = start().await;
    // Without a token it says how to get one.
    let out = collectctl(&stack, None, &["exceptions", "list"]);
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert!(
        err.contains("COLLECTIONS_TOKEN") && err.contains("collectctl auth token"),
        "{err}"
    );
    // A minted token works over TLS; the principal is whoever the token names.
    let li = team_token(&stack, "collector", "li.na", "east");
    assert_eq!(li.split('.').count(), 3, "a JWT: {li}");
    let mut li_clients = devstack::clients::Clients::as_user(
        &stack,
        "li.na",
        &[kit::auth::Role::Collector],
        Some("east"),
    )
    .or_logs(&stack);
    let customer = devstack::scenario::create_customer(&mut li_clients, "钱七")
        .await
        .or_logs(&stack);
    // A collector may not work the payments queue: refused, with the roles that may.
    let out = collectctl(&stack, Some(&li), &["exceptions", "list"]);
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert!(
        err.contains("PermissionDenied") && err.contains("cashier") && err.contains("hint:"),
        "{err}"
    );
    // A supervisor reassigns the customer; the record names the supervisor.
    let chen = team_token(&stack, "supervisor", "chen.jie", "east");
    let out = collectctl(
        &stack,
        Some(&chen),
        &[
            "customers",
            "reassign",
            "--customer",
            &customer,
            "--owner",
            "wang.wu",
            "--reason",
            "li.na moved to another project",
            "--json",
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let moved: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(moved["previous_owner"], "li.na");
    assert_eq!(moved["owner"], "wang.wu");
    assert_eq!(moved["owner_team"], "east");
    assert_eq!(moved["reassigned_by"], "chen.jie");
    // The auditor reads who did what, in text and JSON.
    let auditor = token(
        &stack,
        &[
            "auth",
            "token",
            "--role",
            "auditor",
            "--subject",
            "audit.zhou",
        ],
    );
    let out = collectctl(
        &stack,
        Some(&auditor),
        &["audit", "--service", "contracts", "--json"],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let trail: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let records = trail["records"].as_array().expect("records");
    assert!(
        records.iter().any(|r| r["principal"] == "chen.jie"
            && r["method"]
                .as_str()
                .is_some_and(|m| m.ends_with("/ReassignOwner"))
            && r["outcome"] == "OK"
            && r["resource_ids"].to_string().contains(&customer)),
        "{records:#?}"
    );
    let out = collectctl(
        &stack,
        Some(&auditor),
        &[
            "audit",
            "--service",
            "payments",
            "--outcome",
            "PERMISSION_DENIED",
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let shown = text(&out.stdout);
    assert!(
        shown.contains("li.na") && shown.contains("ListExceptions") && shown.contains("why:"),
        "{shown}"
    );
    // Only auditors and admins read the trail.
    let out = collectctl(&stack, Some(&li), &["audit", "--service", "contracts"]);
    assert!(!out.status.success());
    // Bad input is named.
    let out = collectctl(
        &stack,
        None,
        &["auth", "token", "--role", "root", "--subject", "x"],
    );
    assert!(
        text(&out.stderr).contains("unknown role"),
        "{}",
        text(&out.stderr)
    );
    let out = collectctl(
        &stack,
        None,
        &[
            "auth",
            "token",
            "--role",
            "admin",
            "--subject",
            "x",
            "--ttl",
            "30d",
        ],
    );
    assert!(text(&out.stderr).contains("--ttl"), "{}", text(&out.stderr));
}
