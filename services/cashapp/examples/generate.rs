//! Write a synthetic portfolio (issue item 7): receivables CSV, camt.053 and CSV statements,
//! exchange rates and the ground truth.
//!
//! `cargo run -p cashapp --example generate -- [--seed S] [--payments N] [--config FILE.json] --out DIR`

use std::path::PathBuf;

use cashapp::generator::{self, GeneratorConfig};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut config = GeneratorConfig::default();
    let mut seed = 1u64;
    let mut out = PathBuf::from("generated");
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut value = || args.next().ok_or_else(|| format!("{a} needs a value"));
        match a.as_str() {
            "--seed" => seed = value()?.parse()?,
            "--payments" => config.payments = value()?.parse()?,
            "--config" => config = serde_json::from_str(&std::fs::read_to_string(value()?)?)?,
            "--out" => out = PathBuf::from(value()?),
            other => return Err(format!("unknown argument {other}").into()),
        }
    }
    let g = generator::generate(seed, &config);
    std::fs::create_dir_all(&out)?;
    for (name, bytes) in [
        ("receivables.csv", &g.receivables_csv),
        ("statement.camt053.xml", &g.camt053),
        ("statement.csv", &g.statement_csv),
        ("rates.csv", &g.rates_csv),
        ("truth.json", &g.truth_json),
    ] {
        std::fs::write(out.join(name), bytes)?;
    }
    println!(
        "{} payments written to {} (receivables.csv, statement.camt053.xml, statement.csv, rates.csv, truth.json)",
        g.truth.payments.len(),
        out.display()
    );
    Ok(())
}
