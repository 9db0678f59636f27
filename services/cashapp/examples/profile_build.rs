//! Profiling helper: build a ledger of a generated portfolio (pass the payment count).
fn main() {
    let n = std::env::args().nth(1).and_then(|s| s.parse().ok()).unwrap_or(20_000);
    let config = cashapp::generator::GeneratorConfig { payments: n, ..Default::default() };
    let p = cashapp::generator::generate_portfolio(1, &config);
    let items = p.items;
    let t = std::time::Instant::now();
    let c = items.clone();
    println!("clone {} ms", t.elapsed().as_millis());
    let t = std::time::Instant::now();
    drop(c);
    println!("drop {} ms", t.elapsed().as_millis());
    let t = std::time::Instant::now();
    let l = cashapp::Ledger::from_open_items(items).map(|l| l.len());
    println!("{l:?} in {} ms", t.elapsed().as_millis());
}
