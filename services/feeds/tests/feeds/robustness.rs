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
        Some(Format::Csv("wechatpay".into())),
        Some(Format::Csv("alipay".into())),
        Some(Format::Csv("pos".into())),
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
    let mut all: Vec<Vec<u8>> = files("", "")
        .into_iter()
        .filter(|f| exts.iter().any(|e| f.ends_with(e)) && !f.contains("LICEN"))
        .map(|f| read(&f))
        .collect();
    // The settlement samples the project wrote (in the crate, not the shared folder).
    let own = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/settlement");
    let mut names: Vec<_> = std::fs::read_dir(&own)
        .unwrap_or_else(|e| panic!("{}: {e}", own.display()))
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "csv"))
        .collect();
    names.sort();
    all.extend(names.iter().filter_map(|p| std::fs::read(p).ok()));
    all
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

#[test]
fn huge_amounts_do_not_overflow() {
    // 28-digit amounts are the most a Decimal holds; sums of them must not panic.
    let big = "9".repeat(28);
    let bai2 = format!(
        "01,A,B,250101,0000,1,,,2/\n02,B,A,1,250101,,USD,2/\n03,1,USD,010,{big},,,015,{big},,/\n16,115,{big},,,,X/\n16,115,{big},,,,Y/\n49,{big},4/\n98,{big},1,6/\n99,{big},1,8/\n"
    );
    parse_everywhere(bai2.as_bytes());
    let mt940 = format!(
        ":20:X\n:25:1\n:28C:1\n:34F:EUR0,\n:13D:2501011200+0100\n:61:250101C{big},NTRF\n:61:250101C{big},NTRF\n:90C:2EUR{big},\n-\n"
    );
    parse_everywhere(mt940.as_bytes());
    let csv =
        format!("日期,金额,支出,余额\n2025-01-01,{big},-{big},{big}\n2025-01-02,{big},,-{big}\n");
    let profile = r#"{"name":"huge","header":["日期","金额","支出","余额"],"booking_date":{"column":"日期","formats":["%Y-%m-%d"]},"amount":{"credit":"金额","debit":"支出"},"balance":"余额"}"#;
    let options = ParseOptions {
        csv_profiles: vec![feeds::CsvProfile::from_json(profile).unwrap_or_else(|e| panic!("{e}"))],
        ..ParseOptions::default()
    };
    let _ = feeds::parse_file("huge.csv", csv.as_bytes(), None, &options);
}
