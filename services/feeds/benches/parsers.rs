//! Throughput (MB/s) of each parser on inputs built from the real samples in
//! `../shared/data/bankfeeds`: `cargo bench -p feeds --bench parsers`.
//!
//! Each input is a few MB: sample messages repeated (MT940, BAI2), one statement with the
//! sample's entry repeated (camt), or the sample's data rows repeated under one header (CSV).
//! Parsing includes format detection, decoding, checks and fingerprints, as `parse_file` does;
//! `mt940_compact` is the same MT940 input through `feeds::mt940::parse_compact`.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use feeds::{CheckMode, ParseOptions};

const DATA: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/data/bankfeeds/"
);
const TARGET: usize = 4 << 20;

fn read(rel: &str) -> Vec<u8> {
    std::fs::read(format!("{DATA}{rel}")).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

fn repeat_until(parts: &[Vec<u8>]) -> Vec<u8> {
    let mut out = Vec::with_capacity(TARGET + (1 << 16));
    while out.len() < TARGET {
        for p in parts {
            out.extend_from_slice(p);
            out.extend_from_slice(b"\r\n");
        }
    }
    out
}

/// The MT940 corpus also used by `bench/compare_mt940.sh`.
pub fn mt940_corpus() -> Vec<u8> {
    let files = [
        "betterplace-mt940_parser/test/fixtures/sepa_mt9401.txt",
        "mt940-rs/tests/data/mt940/full/danskebank/MT940_DK_Example.sta",
        "mt940-rs/tests/data/mt940/full/danskebank/MT940_SE_Example.sta",
        "mt940-rs/tests/data/mt940/full/danskebank/MT940_NO_Example.sta",
        "jejik-mt940/tests/Jejik/Tests/MT940/Fixture/document/rabobank-iban.txt",
        "wolph-mt940/mt940_tests/mBank/mt940.sta",
        "wolph-mt940/mt940_tests/ASNB/mt940.txt",
    ];
    repeat_until(&files.map(read))
}

/// One statement whose entry is repeated until the file is about `TARGET` bytes.
fn camt_corpus(rel: &str) -> Vec<u8> {
    let xml = String::from_utf8(read(rel)).unwrap_or_default();
    let (Some(start), Some(end)) = (xml.find("<Ntry>"), xml.rfind("</Ntry>")) else {
        panic!("{rel}: no entry");
    };
    let entry = &xml[start..end + "</Ntry>".len()];
    let copies = TARGET / entry.len() + 1;
    let mut out = String::with_capacity(TARGET + xml.len());
    out.push_str(&xml[..start]);
    for _ in 0..copies {
        out.push_str(entry);
    }
    out.push_str(&xml[end + "</Ntry>".len()..]);
    out.into_bytes()
}

fn csv_corpus(rel: &str, header_lines: usize) -> Vec<u8> {
    let text = String::from_utf8(read(rel)).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    let (head, rows) = lines.split_at(header_lines.min(lines.len()));
    let mut out = head.join("\n");
    out.push('\n');
    while out.len() < TARGET {
        for r in rows {
            out.push_str(r);
            out.push('\n');
        }
    }
    out.into_bytes()
}

fn bench(c: &mut Criterion) {
    // Flag mode: the samples' balance chains do not hold once repeated; all work still runs.
    let options = ParseOptions {
        mode: CheckMode::Flag,
        ..ParseOptions::default()
    };
    let gbk = {
        let utf8 = csv_corpus(
            "double-entry-generator/example/boc/debit/example-boc-records.csv",
            2,
        );
        let text = String::from_utf8(utf8).unwrap_or_default();
        encoding_rs::GBK.encode(&text).0.into_owned()
    };
    let inputs: Vec<(&str, Vec<u8>)> = vec![
        ("mt940", mt940_corpus()),
        (
            "camt053",
            camt_corpus("genkgo-camt/test/data/camt053.v8.xml"),
        ),
        (
            "camt054",
            camt_corpus("genkgo-camt/test/data/camt054.v2.xml"),
        ),
        (
            "camt052",
            camt_corpus("genkgo-camt/test/data/camt052.v4.xml"),
        ),
        (
            "bai2",
            repeat_until(&[read(
                "moov-bai2/test/testdata/sample4-continuations-newline-delimited.txt",
            )]),
        ),
        (
            "csv_boc_debit_utf8",
            csv_corpus(
                "double-entry-generator/example/boc/debit/example-boc-records.csv",
                2,
            ),
        ),
        ("csv_boc_debit_gbk", gbk),
        (
            "csv_icbc_debit",
            csv_corpus(
                "double-entry-generator/example/icbc/debit-v2/example-icbc-debit-v2-records.csv",
                7,
            ),
        ),
    ];
    let mut group = c.benchmark_group("parse");
    group.sample_size(10);
    for (name, bytes) in &inputs {
        let check = feeds::parse_file(name, bytes, None, &options)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(
            check.transaction_count() > 100,
            "{name}: {} transactions",
            check.transaction_count()
        );
        group.throughput(Throughput::Bytes(bytes.len() as u64));
        group.bench_function(*name, |b| {
            b.iter(|| {
                feeds::parse_file(name, black_box(bytes), None, &options)
                    .map(|p| p.transaction_count())
                    .map_err(|e| e.kind)
            })
        });
    }
    // The MT940 parser's compact form (same checks, no owned strings; fingerprints are
    // computed on demand and not asked for here).
    let mt940 = &inputs[0].1;
    group.throughput(Throughput::Bytes(mt940.len() as u64));
    group.bench_function("mt940_compact", |b| {
        b.iter(|| {
            feeds::mt940::parse_compact("mt940", black_box(mt940), None, &options)
                .map(|p| p.transaction_count())
                .map_err(|e| e.kind)
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
