//! Reconcile a statement against receivables and print one JSON object per payment, then the
//! summary and any input errors (what `collectctl reconcile` prints). With `--truth`, also
//! print the quality figures against a generator's ground truth (to stderr).
//!
//! `cargo run -p cashapp --example reconcile -- --receivables R.csv --statement S
//!  [--format auto|camt053|csv:boc_debit|…] [--rates RATES.csv] [--policy POLICY.json]
//!  [--truth truth.json]`

use cashapp::generator::{self, GroundTruth};
use cashapp::{NamedFile, Policy, reconcile_files};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (mut receivables, mut statement) = (None, None);
    let (mut format, mut rates, mut policy, mut truth) = (None, None, None, None);
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut value = || args.next().ok_or_else(|| format!("{a} needs a value"));
        match a.as_str() {
            "--receivables" => receivables = Some(value()?),
            "--statement" => statement = Some(value()?),
            "--format" => format = Some(value()?),
            "--rates" => rates = Some(value()?),
            "--policy" => policy = Some(value()?),
            "--truth" => truth = Some(value()?),
            other => return Err(format!("unknown argument {other}").into()),
        }
    }
    let receivables = receivables.ok_or("--receivables FILE.csv is required")?;
    let statement = statement.ok_or("--statement FILE is required")?;
    let format = match format.as_deref() {
        None | Some("auto") => None,
        Some(f) => Some(f.parse::<feeds::Format>()?),
    };
    let policy = match &policy {
        Some(f) => Policy::from_json(f, &std::fs::read_to_string(f)?)?,
        None => Policy::default(),
    };
    let receivables_bytes = std::fs::read(&receivables)?;
    let statement_bytes = std::fs::read(&statement)?;
    let rates_bytes = rates.as_ref().map(std::fs::read).transpose()?;
    let report = reconcile_files(
        NamedFile {
            name: &receivables,
            bytes: &receivables_bytes,
        },
        NamedFile {
            name: &statement,
            bytes: &statement_bytes,
        },
        format,
        rates
            .as_deref()
            .zip(rates_bytes.as_deref())
            .map(|(name, bytes)| NamedFile { name, bytes }),
        &policy,
    )?;
    print!("{}", report.to_json_lines());
    if let Some(t) = truth {
        let truth: GroundTruth = serde_json::from_slice(&std::fs::read(t)?)?;
        eprint!("{}", generator::evaluate(&truth, &report.decisions));
    }
    Ok(())
}
