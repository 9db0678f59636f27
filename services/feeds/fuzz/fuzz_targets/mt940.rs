//! Fuzz target: no input may make the mt940 parser panic or hang, and its compact form
//! (`parse_compact`) must always equal the owned model (`parse_file`).
#![no_main]

use feeds::{CheckMode, Format, ParseOptions};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let formats: Vec<Option<Format>> = vec![Some(Format::Mt940), Some(Format::Mt942)];
    for format in formats {
        for mode in [CheckMode::Strict, CheckMode::Flag] {
            let options = ParseOptions {
                mode,
                ..ParseOptions::default()
            };
            let owned = feeds::parse_file("fuzz", data, format.clone(), &options);
            if let Ok(parsed) = &owned {
                // Output must always serialise.
                let _ = parsed.to_json_pretty();
            }
            // The compact form must give exactly the owned model.
            let compact = feeds::mt940::parse_compact("fuzz", data, format.clone(), &options);
            match (&owned, &compact) {
                (Ok(a), Ok(b)) => assert_eq!(a, &b.to_parsed_file("fuzz")),
                (Err(a), Err(b)) => assert_eq!(a, b),
                _ => panic!("parse_file {owned:?} but parse_compact {compact:?}"),
            }
        }
    }
});
