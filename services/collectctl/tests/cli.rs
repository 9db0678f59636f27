//! The built `collectctl` binary: JSON on success, a message and a hint with a non-zero exit
//! on bad input.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

fn examples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../money/examples")
}

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_collectctl"))
        .args(args)
        .env_remove("COLLECTCTL_CALENDAR_DIR")
        .env_remove("COLLECTCTL_REFERENCE_RATES")
        .output()
        .unwrap()
}

fn ok(args: &[&str]) -> Value {
    let out = run(args);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Runs a failing command; returns its stderr.
fn fails(args: &[&str]) -> String {
    let out = run(args);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{args:?} should fail with exit code 1"
    );
    assert!(out.stdout.is_empty(), "no JSON on failure");
    String::from_utf8(out.stderr).unwrap()
}

fn example(name: &str) -> String {
    examples().join(name).display().to_string()
}

#[test]
fn calendar_days_says_why_a_day_is_off() {
    let v = ok(&[
        "calendar",
        "days",
        "--from",
        "2026-09-30",
        "--to",
        "2026-10-10",
    ]);
    assert_eq!(v["region"], "CN");
    assert_eq!(
        (v["working_days"].as_u64(), v["days_off"].as_u64()),
        (Some(4), Some(7))
    ); // 30 Sep, 8, 9, 10 Oct
    assert_eq!(v["days"][1]["kind"], "holiday");
    assert_eq!(v["days"][1]["holiday_zh"], "国庆节");
    assert_eq!(v["days"][10]["kind"], "makeup_workday"); // Saturday 10 October
    assert_eq!(v["days_off_blocks"][0]["days"], 7);
    assert!(
        v["sources"][0]["notice"]
            .as_str()
            .unwrap()
            .contains("2026年")
    );
}

#[test]
fn calendar_add_workdays_and_due_date() {
    let v = ok(&["calendar", "add-workdays", "2026-09-30", "1"]);
    assert_eq!(v["result"], "2026-10-08");
    let v = ok(&["calendar", "add-workdays", "2026-10-08", "-10"]);
    assert_eq!(v["result"], "2026-09-17");
    let v = ok(&["calendar", "due-date", "2026-10-03"]);
    assert_eq!(
        (v["due"].as_str(), v["reminder"].as_str()),
        (Some("2026-10-08"), Some("2026-09-17"))
    );
}

#[test]
fn years_without_data_fail_unless_provisional_or_added() {
    let err = fails(&["calendar", "add-workdays", "2026-12-30", "3"]);
    assert!(err.contains("no data for 2027-01-01"), "{err}");
    assert!(
        err.contains("hint: add the year's official notice"),
        "{err}"
    );
    let v = ok(&[
        "calendar",
        "add-workdays",
        "2026-12-30",
        "3",
        "--allow-provisional",
    ]);
    assert_eq!(v["result_day"]["provisional"], true);
    // An operator file for 2027 in the calendar directory, without a rebuild.
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("calendar-2027");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("cn-2027.json"),
        r#"{"format": 1, "region": "CN", "version": "ops-1", "years": [{"year": 2027,
            "notice": "test", "holidays": [{"name": "New Year's Day", "from": "2027-01-01",
            "to": "2027-01-03", "days": 3}]}]}"#,
    )
    .unwrap();
    let dir = dir.display().to_string();
    let v = ok(&[
        "calendar",
        "--calendar-dir",
        &dir,
        "add-workdays",
        "2026-12-30",
        "2",
    ]);
    assert_eq!(v["result"], "2027-01-04");
    assert!(
        v["data_version"]
            .as_str()
            .unwrap()
            .ends_with("cn-2027.json@ops-1")
    );
    let err = fails(&[
        "calendar",
        "--calendar-dir",
        "/nonexistent/dir",
        "days",
        "--from",
        "2026-01-01",
        "--to",
        "2026-01-01",
    ]);
    assert!(
        err.contains("cannot read calendar directory /nonexistent/dir"),
        "{err}"
    );
}

#[test]
fn late_fee_with_the_example_files() {
    let (policy, payments, waivers) = (
        example("tiered-with-surcharge.json"),
        example("payments.json"),
        example("waivers.json"),
    );
    let v = ok(&[
        "late-fee",
        "--policy",
        &policy,
        "--principal",
        "10000",
        "--currency",
        "CNY",
        "--due",
        "2026-01-31",
        "--as-of",
        "2026-04-10",
        "--payments",
        &payments,
        "--waivers",
        &waivers,
    ]);
    assert_eq!(
        (
            v["accrued"].as_str(),
            v["waived"].as_str(),
            v["total"].as_str()
        ),
        (Some("1626.00"), Some("813.00"), Some("813.00"))
    );
    assert_eq!(v["lines"].as_array().unwrap().len(), 6);
    let lpr = (example("lpr-times-1.5.json"), example("lpr-1y.json"));
    let v = ok(&[
        "late-fee",
        "--policy",
        &lpr.0,
        "--principal",
        "100000",
        "--due",
        "2024-09-30",
        "--as-of",
        "2024-10-31",
        "--reference-rates",
        &lpr.1,
    ]);
    assert_eq!(v["total"], "415.48");
    let v = ok(&[
        "late-fee",
        "--policy",
        &lpr.0,
        "--principal",
        "100000",
        "--due",
        "2024-09-30",
        "--as-of",
        "2024-10-31",
        "--reference-rates",
        &lpr.1,
        "--since",
        "2024-10-20",
    ]);
    assert_eq!(v["period_from"], "2024-10-21");
    assert_eq!(v["total"], "140.14"); // 415.48 - 275.34
}

#[test]
fn bad_input_is_named_with_what_to_do() {
    let policy = example("tiered-with-surcharge.json");
    let base = ["late-fee", "--policy", &policy, "--due", "2026-01-31"];
    let with = |extra: &[&'static str]| -> Vec<String> {
        base.iter().chain(extra).map(|s| s.to_string()).collect()
    };
    let cases: [(Vec<String>, &str); 5] = [
        (
            with(&[
                "--principal",
                "1",
                "--as-of",
                "2026-04-10",
                "--currency",
                "RMB",
            ]),
            "unknown currency code \"RMB\"",
        ),
        (
            with(&["--principal", "-5", "--as-of", "2026-04-10"]),
            "principal must not be negative",
        ),
        (
            with(&["--principal", "5", "--as-of", "2026-01-01"]),
            "is before the due date",
        ),
        (
            with(&["--principal", "5.001", "--as-of", "2026-04-10"]),
            "more decimal places than CNY allows",
        ),
        (
            with(&[
                "--principal",
                "5",
                "--as-of",
                "2026-04-10",
                "--payments",
                "/no/such.json",
            ]),
            "cannot read payments file",
        ),
    ];
    for (args, want) in cases {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let err = fails(&args);
        assert!(
            err.contains(want) && err.contains("\nhint: "),
            "{args:?}: {err}"
        );
    }
    let err = fails(&[
        "calendar",
        "days",
        "--from",
        "2026-01-01",
        "--to",
        "2026-01-02",
        "--region",
        "HK",
    ]);
    assert!(
        err.contains("unknown calendar region \"HK\": known regions are CN"),
        "{err}"
    );
    // A typo'd key in a policy file names the key.
    let typo = Path::new(env!("CARGO_TARGET_TMPDIR")).join("typo-policy.json");
    let text = std::fs::read_to_string(&policy)
        .unwrap()
        .replace("\"grace", "\"grase")
        .replace("\"caps\"", "\"cap\"");
    std::fs::write(&typo, text).unwrap();
    let typo = typo.display().to_string();
    let err = fails(&[
        "late-fee",
        "--policy",
        &typo,
        "--principal",
        "1",
        "--due",
        "2026-01-31",
        "--as-of",
        "2026-04-10",
    ]);
    assert!(err.contains("unknown field `cap`"), "{err}");
    // A malformed command line is a usage error (exit code 2).
    let out = run(&["calendar", "add-workdays", "2026-13-01", "1"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("expected YYYY-MM-DD"));
}

#[test]
fn score_validate_runs_offline_with_progress_on_stderr() {
    // Issue 15 item 5: no service needed; JSON on stdout, progress lines on stderr for long
    // runs; the same seed gives the same figures.
    let args = [
        "score",
        "validate",
        "--customers",
        "20000",
        "--seed",
        "5",
        "--json",
    ];
    let out = run(&args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("scored 40000 of 40000 synthetic customers"),
        "{stderr}"
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["scorecard"], "pts-v1");
    let gini = v["development"]["discrimination"]["gini"].as_f64().unwrap();
    assert!(gini > 0.3, "{v}");
    assert_eq!(v["stability"], "stable");
    assert_eq!(out.stdout, run(&args).stdout);
    let err = fails(&["score", "explain", "--features", "/nonexistent/f.json"]);
    assert!(err.contains("features file"), "{err}");
}
