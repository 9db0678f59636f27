//! What `collectctl feed parse FILE [--format F] [--flag]` will do, for trying the parser:
//! `cargo run -p feeds --example feed_parse -- FILE [--format mt940|…|csv:PROFILE] [--flag] [--summary]`.

use std::process::ExitCode;

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let mut file = None;
    let mut format = None;
    let mut options = feeds::ParseOptions::default();
    let mut summary = false;
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--format" => match args.next().map(|f| f.parse::<feeds::Format>()) {
                Some(Ok(f)) => format = Some(f),
                Some(Err(e)) => {
                    eprintln!("{e}");
                    return ExitCode::from(2);
                }
                None => {
                    eprintln!("--format needs a value");
                    return ExitCode::from(2);
                }
            },
            "--flag" => options.mode = feeds::CheckMode::Flag,
            "--summary" => summary = true,
            _ => file = Some(arg),
        }
    }
    let Some(file) = file else {
        eprintln!("usage: feed_parse FILE [--format F] [--flag] [--summary]");
        return ExitCode::from(2);
    };
    let bytes = match std::fs::read(&file) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("{file}: {e}");
            return ExitCode::from(2);
        }
    };
    match feeds::parse_file(&file, &bytes, format, &options) {
        Ok(parsed) => {
            if summary {
                println!(
                    "{}: {} {} statements, {} transactions, {} errors",
                    file,
                    parsed.format,
                    parsed.statements.len(),
                    parsed.transaction_count(),
                    parsed.errors.len()
                );
                for s in &parsed.statements {
                    for f in &s.flags {
                        println!("  flag: {f}");
                    }
                }
            } else {
                println!("{}", parsed.to_json_pretty());
            }
            for e in &parsed.errors {
                eprintln!("{e}");
            }
            if parsed.is_clean() {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        Err(e) => {
            eprintln!("{e}");
            ExitCode::FAILURE
        }
    }
}
