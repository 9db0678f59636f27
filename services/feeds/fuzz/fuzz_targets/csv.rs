//! Fuzz target: no input may make the csv parser panic or hang.
#![no_main]

use feeds::{CheckMode, Format, ParseOptions};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let formats: Vec<Option<Format>> = vec![
        Some(Format::Csv("icbc_debit".into())),
        Some(Format::Csv("bocom_credit".into())),
        Some(Format::Csv("cmb_credit".into())),
        Some(Format::Csv("hsbchk_debit".into())),
        // Settlement reports (fee, net, batch, refund rows, WeChat's totals block).
        Some(Format::Csv("wechatpay".into())),
        Some(Format::Csv("alipay".into())),
        Some(Format::Csv("pos".into())),
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
