//! Every file in the sample folder is accounted for: each sample is parsed in the default
//! strict mode and its outcome (statements, transactions, rejected statements by error kind,
//! or the file-level error) must equal `tests/expected/inventory.json`. A new or changed
//! sample fails this test until its outcome is reviewed; `FEEDS_BLESS=1` rewrites the file.

use std::collections::BTreeMap;
use std::path::Path;

use feeds::{ErrorKind, ParseOptions};

use crate::common::{DATA, EXPECTED, files, read};

/// Files that are not samples: licences, docs, expected results, schemas, tool configs.
fn is_sample(rel: &str) -> bool {
    let name = rel.rsplit('/').next().unwrap_or(rel);
    let not = [
        ".yml",
        ".yaml",
        ".json",
        ".beancount",
        ".ledger",
        ".xsd",
        ".md",
    ];
    !name.starts_with("LICEN") && !not.iter().any(|ext| name.ends_with(ext))
}

fn kind(k: ErrorKind) -> String {
    serde_json::to_value(k)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

fn outcome(rel: &str) -> String {
    match feeds::parse_file(rel, &read(rel), None, &ParseOptions::default()) {
        Ok(p) => {
            let mut kinds: BTreeMap<String, usize> = BTreeMap::new();
            for e in &p.errors {
                assert!(
                    e.to_string().starts_with(rel),
                    "{rel}: error does not name the file: {e}"
                );
                *kinds.entry(kind(e.kind)).or_default() += 1;
            }
            let rejected: Vec<String> = kinds.iter().map(|(k, n)| format!("{n} {k}")).collect();
            let base = format!(
                "{} {}: {} statements, {} transactions",
                p.format,
                p.encoding,
                p.statements.len(),
                p.transaction_count()
            );
            if rejected.is_empty() {
                base
            } else {
                format!("{base}; errors: {}", rejected.join(", "))
            }
        }
        Err(e) => {
            assert!(
                e.to_string().starts_with(rel),
                "{rel}: error does not name the file: {e}"
            );
            format!("file error: {}", kind(e.kind))
        }
    }
}

#[test]
fn every_sample_file_has_a_reviewed_outcome() {
    let samples: Vec<String> = files("", "").into_iter().filter(|f| is_sample(f)).collect();
    assert!(samples.len() > 140, "sample folder missing? {DATA}");
    let actual: BTreeMap<String, String> =
        samples.iter().map(|f| (f.clone(), outcome(f))).collect();
    let path = Path::new(EXPECTED).join("inventory.json");
    if std::env::var_os("FEEDS_BLESS").is_some() {
        let json = serde_json::to_string_pretty(&actual).unwrap_or_default();
        std::fs::write(&path, json + "\n").unwrap_or_else(|e| panic!("{e}"));
    }
    let expected: BTreeMap<String, String> =
        serde_json::from_value(crate::common::json(&path)).unwrap_or_default();
    let mut diffs = Vec::new();
    for (file, got) in &actual {
        match expected.get(file) {
            Some(want) if want == got => {}
            Some(want) => diffs.push(format!("{file}: {got}\n   expected {want}")),
            None => diffs.push(format!("{file}: new sample, outcome {got}")),
        }
    }
    for file in expected.keys().filter(|f| !actual.contains_key(*f)) {
        diffs.push(format!("{file}: listed but gone"));
    }
    assert!(diffs.is_empty(), "{}", diffs.join("\n"));
}
