//! Cheap always-on guards against panics and hangs (the cargo-fuzz targets in `fuzz/` go
//! further): arbitrary bytes, every prefix of small samples, and random byte edits of every
//! sample, through every parser.

use std::time::{Duration, Instant};

use feeds::{CheckMode, Format, ParseOptions};
use proptest::prelude::*;

use crate::common::{files, read};

fn formats() -> Vec<Option<Format>> {
    vec![
        None,
        Some(Format::Mt940),
        Some(Format::Camt053),
        Some(Format::Camt054),
        Some(Format::Bai2),
        Some(Format::Csv("icbc_debit".into())),
        Some(Format::Csv("bocom_credit".into())),
        Some(Format::Csv("cmb_credit".into())),
    ]
}

/// Parse with every parser in both modes; fail if one call takes more than a second.
fn parse_everywhere(bytes: &[u8]) {
    for format in formats() {
        for mode in [CheckMode::Strict, CheckMode::Flag] {
            let options = ParseOptions {
                mode,
                ..ParseOptions::default()
            };
            let start = Instant::now();
            let result = feeds::parse_file("input", bytes, format.clone(), &options);
            if let Ok(parsed) = result {
                // The JSON output must always be producible.
                assert!(!parsed.to_json_pretty().is_empty());
            }
            assert!(
                start.elapsed() < Duration::from_secs(1),
                "slow on {} bytes",
                bytes.len()
            );
        }
    }
}

fn samples() -> Vec<Vec<u8>> {
    let exts = [".sta", ".txt", ".xml", ".bai2", ".csv"];
    files("", "")
        .into_iter()
        .filter(|f| exts.iter().any(|e| f.ends_with(e)) && !f.contains("LICEN"))
        .map(|f| read(&f))
        .collect()
}

#[test]
fn every_prefix_of_small_samples() {
    for bytes in samples().into_iter().filter(|b| b.len() < 1500) {
        for end in 0..=bytes.len() {
            let prefix = bytes.get(..end).unwrap_or_default();
            let _ = feeds::parse_file("prefix", prefix, None, &ParseOptions::default());
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..1024)) {
        parse_everywhere(&bytes);
    }

    #[test]
    fn swift_shaped_text_never_panics(lines in proptest::collection::vec(
        (prop_oneof![Just(":20:"), Just(":25:"), Just(":28C:"), Just(":60F:"), Just(":61:"),
                     Just(":86:"), Just(":62F:"), Just(":NS:"), Just("-"), Just("{4:"), Just("")],
         "[ -~\\n?]{0,40}"),
        0..30)) {
        let text: String = lines.iter().map(|(t, v)| format!("{t}{v}\r\n")).collect();
        parse_everywhere(text.as_bytes());
    }

    #[test]
    fn edited_samples_never_panic(index in any::<prop::sample::Index>(),
                                  edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
                                  cut in any::<prop::sample::Index>()) {
        let all = samples();
        let mut bytes = index.get(&all).clone();
        if !bytes.is_empty() {
            for (at, byte) in &edits {
                let i = at.index(bytes.len());
                if let Some(b) = bytes.get_mut(i) {
                    *b = *byte;
                }
            }
            let end = cut.index(bytes.len() + 1);
            bytes.truncate(end.max(bytes.len() / 2));
        }
        parse_everywhere(&bytes);
    }
}
