//! The portfolio: projects (each with its escrow account), customers, contracts and their
//! installments, and what each customer does in the statement period. Ground truth is kept
//! by intent: a customer pays the oldest open installment(s) of a contract, so the R-P11
//! order and the intent agree; after a payment that must go to a person (third party, wrong
//! account, no reference from a new account) the contract gets no further payments, so the
//! truth of later payments does not depend on how that one is resolved.

use chrono::{Days, Months, NaiveDate};
use rust_decimal::Decimal;

use super::people::{self, Name};
use super::rng::Rng;
use super::truth::{GroundTruth, TruthPayment};
use super::{GeneratorConfig, Portfolio};
use crate::fx::RateTable;
use crate::model::{OpenItem, Payment};

/// A statement line (a credit or a debit).
#[derive(Debug, Clone)]
pub(crate) struct Line {
    pub(crate) key: String,
    pub(crate) date: NaiveDate,
    pub(crate) amount: Decimal,
    pub(crate) currency: &'static str,
    pub(crate) account: usize,
    pub(crate) payer_name: Option<String>,
    pub(crate) payer_account: Option<String>,
    pub(crate) remittance: Option<String>,
}

/// A receiving account.
#[derive(Debug, Clone)]
pub(crate) struct Account {
    pub(crate) number: String,
    pub(crate) opening: Decimal,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Event {
    Normal,
    ThirdParty,
    WrongAccount,
    Review,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Style {
    Single,
    Combined,
    Partial,
    Over,
    Charges,
}

pub(super) struct Customer {
    pub(super) id: String,
    pub(super) name: Name,
    pub(super) accounts: Vec<String>,
    pub(super) foreign: bool,
    pub(super) contracts: usize,
    pub(super) last: Option<NaiveDate>,
}

pub(super) struct Contract {
    pub(super) no: String,
    pub(super) fee: bool,
    pub(super) unit: Option<String>,
    pub(super) escrow: usize,
    pub(super) items: Vec<usize>,
}

pub(super) struct Gen<'a> {
    pub(super) rng: Rng,
    pub(super) cfg: &'a GeneratorConfig,
    pub(super) accounts: Vec<Account>,
    pub(super) projects: Vec<(u16, usize, u32)>,
    pub(super) items: Vec<OpenItem>,
    pub(super) open: Vec<Decimal>,
    pub(super) lines: Vec<(Line, TruthPayment)>,
    pub(super) rates: RateTable,
    pub(super) contracts: usize,
}

pub(crate) fn build(seed: u64, cfg: &GeneratorConfig) -> Portfolio {
    let mut g = Gen {
        rng: Rng::new(seed),
        cfg,
        accounts: Vec::new(),
        projects: Vec::new(),
        items: Vec::new(),
        open: Vec::new(),
        lines: Vec::new(),
        rates: RateTable::new(),
        contracts: 0,
    };
    let ops = format!("7559{}", g.rng.digits(12));
    g.accounts.push(Account {
        number: ops,
        opening: Decimal::new(250_000_000, 2),
    });
    g.rates = rates(&mut g.rng, cfg);
    let target = cfg.payments * 10_000usize.saturating_sub(cfg.mix.unrelated as usize) / 10_000;
    let mut n = 0usize;
    while g.lines.len() < target {
        g.customer(n);
        n += 1;
    }
    while g.lines.len() < cfg.payments {
        g.unrelated();
    }
    for _ in 0..cfg.payments / 200 {
        g.debit();
    }
    g.finish(seed)
}

fn rates(rng: &mut Rng, cfg: &GeneratorConfig) -> RateTable {
    let mut t = RateTable::new();
    let (mut hkd, mut usd) = (9200i64, 71000i64);
    for d in -7..=i64::from(cfg.days) {
        let date = cfg.start + chrono::Duration::days(d);
        hkd += rng.range(-15, 15);
        usd += rng.range(-150, 150);
        t.insert(date, "HKD", "CNY", Decimal::new(hkd, 4));
        t.insert(date, "USD", "CNY", Decimal::new(usd, 4));
    }
    t
}

impl Gen<'_> {
    pub(super) fn end(&self) -> NaiveDate {
        self.cfg.start + Days::new(u64::from(self.cfg.days.saturating_sub(1)))
    }

    fn customer(&mut self, n: usize) {
        let rng = &mut self.rng;
        let company = rng.chance(1200);
        let foreign = !company && rng.chance(self.cfg.mix.foreign_customers);
        let name = if company {
            people::company(rng)
        } else {
            people::person(rng)
        };
        let count = if rng.chance(1500) { 2 } else { 1 };
        let accounts: Vec<String> = (0..count)
            .map(|_| {
                if foreign {
                    people::hk_account(rng)
                } else if company {
                    people::company_account(rng)
                } else {
                    people::card(rng)
                }
            })
            .collect();
        let mut c = Customer {
            id: format!("C{n:07}"),
            name,
            accounts,
            foreign,
            contracts: if rng.chance(1200) { 2 } else { 1 },
            last: None,
        };
        for _ in 0..c.contracts {
            self.contract(&mut c);
        }
    }

    fn contract(&mut self, c: &mut Customer) {
        let rng = &mut self.rng;
        let project = self.contracts / self.cfg.contracts_per_project.max(1);
        self.contracts += 1;
        while self.projects.len() <= project {
            let code = u16::try_from(self.projects.len() + 1).unwrap_or(u16::MAX);
            let number = format!("4405017{:03}{}", code % 1000, rng.digits(9));
            self.accounts.push(Account {
                number,
                opening: Decimal::new(i64::from(code) * 1_000_000, 2),
            });
            self.projects.push((code, self.accounts.len() - 1, 0));
        }
        let Some((code, escrow, seq)) = self.projects.get_mut(project) else {
            return;
        };
        *seq += 1 + u32::try_from(rng.below(4)).unwrap_or(0);
        let fee = rng.chance(3000);
        let year = 2022 + rng.below(3);
        let no = format!(
            "{}-{year}-{:03}-{:05}",
            if fee { "WY" } else { "HT" },
            *code % 1000,
            *seq
        );
        let escrow = *escrow;
        let unit = (fee || rng.chance(5000)).then(|| {
            format!(
                "{}-{}{:02}",
                rng.range(1, 20),
                rng.range(1, 33),
                rng.range(1, 4)
            )
        });
        let amount = if fee {
            Decimal::new(rng.range(15_000, 300_000), 2)
        } else if rng.chance(2000) {
            Decimal::new(rng.range(300_000, 5_000_000), 2)
        } else {
            Decimal::new(rng.range(30, 500) * 100, 0)
        };
        let count = rng.weighted(&[(1usize, 35), (2, 40), (3, 25)]).unwrap_or(1);
        let first_due = self.cfg.start + chrono::Duration::days(rng.range(-20, 25));
        let payer_accounts: Vec<String> = c
            .accounts
            .iter()
            .map(|a| {
                if rng.chance(3000) {
                    people::spaced(a)
                } else {
                    a.clone()
                }
            })
            .collect();
        let escrow_account = self
            .accounts
            .get(escrow)
            .map(|a| a.number.clone())
            .unwrap_or_default();
        let mut contract = Contract {
            no: no.clone(),
            fee,
            unit: unit.clone(),
            escrow,
            items: Vec::new(),
        };
        for k in 0..count {
            let due = first_due
                .checked_add_months(Months::new(u32::try_from(k).unwrap_or(0)))
                .unwrap_or(first_due);
            contract.items.push(self.items.len());
            self.open.push(amount);
            self.items.push(OpenItem {
                receivable_id: format!("{no}-{:02}", k + 1),
                contract_no: no.clone(),
                customer_id: c.id.clone(),
                customer_name: c.name.han.clone(),
                payer_accounts: payer_accounts.clone(),
                unit: unit.clone(),
                due_date: due,
                open_amount: amount,
                currency: "CNY".into(),
                escrow_account: escrow_account.clone(),
            });
        }
        self.pay(c, &contract);
    }
}

impl Gen<'_> {
    fn finish(mut self, seed: u64) -> Portfolio {
        let mut lines = std::mem::take(&mut self.lines);
        lines.sort_by_key(|a| a.0.date);
        let (lines, truth) = super::emit::finish_lines(lines);
        let payments: Vec<Payment> = lines
            .iter()
            .filter(|l| l.amount > Decimal::ZERO)
            .filter_map(|l| {
                let account = self.accounts.get(l.account)?;
                let mut p = Payment::new(
                    l.key.clone(),
                    l.date,
                    l.amount,
                    l.currency,
                    account.number.clone(),
                )
                .with_payer(l.payer_name.as_deref(), l.payer_account.as_deref());
                p.remittance.clone_from(&l.remittance);
                p.bank_reference = Some(l.key.clone());
                Some(p)
            })
            .collect();
        Portfolio {
            items: self.items,
            payments,
            rates: self.rates,
            truth: GroundTruth {
                seed,
                payments: truth,
            },
            lines,
            accounts: self.accounts,
        }
    }
}
