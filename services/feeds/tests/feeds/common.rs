//! Shared helpers.

use std::path::{Path, PathBuf};
use std::str::FromStr;

use feeds::{CheckMode, ParseOptions, ParsedFile};
use rust_decimal::Decimal;

/// The sample folder, outside the repository.
pub(crate) const DATA: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/data/bankfeeds"
);
/// Expected results converted by `tests/expected/convert.py`.
pub(crate) const EXPECTED: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/expected");

pub(crate) fn data(rel: &str) -> PathBuf {
    Path::new(DATA).join(rel)
}

pub(crate) fn read(rel: &str) -> Vec<u8> {
    std::fs::read(data(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

pub(crate) fn flag_options() -> ParseOptions {
    ParseOptions {
        mode: CheckMode::Flag,
        ..ParseOptions::default()
    }
}

/// Parse a sample in flag mode (statements with failed checks kept, for value comparison).
pub(crate) fn parse_flagged(rel: &str) -> ParsedFile {
    feeds::parse_file(rel, &read(rel), None, &flag_options())
        .unwrap_or_else(|e| panic!("{rel}: {e}"))
}

pub(crate) fn json(path: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

pub(crate) fn expected(rel: &str) -> serde_json::Value {
    json(&Path::new(EXPECTED).join(rel))
}

pub(crate) fn dec(s: &str) -> Decimal {
    Decimal::from_str(s.trim()).unwrap_or_else(|e| panic!("{s}: {e}"))
}

/// `Some(string)` of a JSON value that is a non-null string.
pub(crate) fn s(v: &serde_json::Value) -> Option<String> {
    v.as_str().map(str::to_string)
}

/// Collects mismatches so one run shows all of them.
#[derive(Default)]
pub(crate) struct Diffs(pub Vec<String>);

impl Diffs {
    pub(crate) fn eq<T: PartialEq + std::fmt::Debug>(
        &mut self,
        what: impl std::fmt::Display,
        ours: T,
        theirs: T,
    ) {
        if ours != theirs {
            self.0
                .push(format!("{what}: ours {ours:?} != expected {theirs:?}"));
        }
    }

    pub(crate) fn check(self, allowed: &[&str]) {
        let unexpected: Vec<&String> = self
            .0
            .iter()
            .filter(|d| !allowed.iter().any(|a| d.contains(a)))
            .collect();
        assert!(
            unexpected.is_empty(),
            "{} mismatches:\n{}",
            unexpected.len(),
            unexpected
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join("\n")
        );
    }
}

pub(crate) fn files(dir: &str, ext: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![data(dir)];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d)
            .unwrap_or_else(|e| panic!("{}: {e}", d.display()))
            .flatten()
        {
            let p = entry.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.to_string_lossy().ends_with(ext) {
                let rel = p
                    .strip_prefix(DATA)
                    .map(|r| r.to_string_lossy().into_owned())
                    .unwrap_or_default();
                out.push(rel);
            }
        }
    }
    out.sort();
    out
}
