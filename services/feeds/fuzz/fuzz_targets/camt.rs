//! Fuzz target: no input may make the camt parser panic or hang.
#![no_main]

use feeds::{CheckMode, Format, ParseOptions};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let formats: Vec<Option<Format>> = vec![
        Some(Format::Camt052),
        Some(Format::Camt053),
        Some(Format::Camt054),
    ];
    for format in formats {
        for mode in [CheckMode::Strict, CheckMode::Flag] {
            let options = ParseOptions {
                mode,
                ..ParseOptions::default()
            };
            if let Ok(parsed) = feeds::parse_file("fuzz", data, format.clone(), &options) {
                // Output must always serialise.
                let _ = parsed.to_json_pretty();
            }
        }
    }
});
