//! One payment of a customer, its noise (payer, reference, receiving account, currency), a
//! possible duplicate, and its ground truth; plus the lines that pay nothing (unrelated credits
//! and debits).

use chrono::{Days, NaiveDate};
use rust_decimal::{Decimal, RoundingStrategy};

use super::noise::{RefStyle, reference, remittance};
use super::people;
use super::scenario::{Contract, Customer, Event, Gen, Line, Style};
use super::truth::{Expect, TruthAllocation, TruthPayment};

/// Largest difference the default policy writes off without approval (R-P12).
const AUTO_WRITE_OFF: Decimal = Decimal::from_parts(100, 0, 0, false, 2);

/// What kind of payment to emit.
pub(super) struct What {
    pub(super) event: Event,
    pub(super) style: Style,
    pub(super) category: &'static str,
    pub(super) installment: usize,
}

fn truth(key_category: &str, reference: &str, payer: &str, expect: Expect) -> TruthPayment {
    TruthPayment {
        key: String::new(),
        csv_line: None,
        category: key_category.to_string(),
        reference: reference.to_string(),
        payer: payer.to_string(),
        expect,
        exception: None,
        customer_id: None,
        allocations: Vec::new(),
    }
}

impl Gen<'_> {
    pub(super) fn emit(
        &mut self,
        c: &Customer,
        contract: &Contract,
        what: &What,
        items: &[usize],
        amount: Decimal,
        date: NaiveDate,
    ) -> NaiveDate {
        let mix = self.cfg.mix.clone();
        let rng = &mut self.rng;
        let new_account = |rng: &mut super::rng::Rng, company: bool| {
            if c.foreign {
                people::hk_account(rng)
            } else if company {
                people::company_account(rng)
            } else {
                people::card(rng)
            }
        };
        let is_company = c.name.company.is_some();
        let (name, account, payer) = match what.event {
            Event::ThirdParty => {
                let other = if is_company || rng.chance(3000) {
                    // Another company (company names are unique per region: a different core).
                    let mut o = people::company(rng);
                    while o.company.as_ref().map(|x| &x.1) == c.name.company.as_ref().map(|x| &x.1)
                    {
                        o = people::company(rng);
                    }
                    o
                } else {
                    people::relative(rng, &c.name)
                };
                let acct = new_account(rng, other.company.is_some());
                (other.han, acct, "third_party")
            }
            Event::Review => (
                c.name.han.clone(),
                new_account(rng, is_company),
                "new_account",
            ),
            _ => {
                let known = !rng.chance(mix.new_account);
                let acct = if known {
                    rng.pick(&c.accounts).cloned().unwrap_or_default()
                } else {
                    new_account(rng, is_company)
                };
                let payer = if known {
                    "known_account"
                } else {
                    "new_account"
                };
                (people::variant(rng, &c.name), acct, payer)
            }
        };
        let none_allowed = what.event == Event::Normal
            && payer == "known_account"
            && c.contracts == 1
            && matches!(what.style, Style::Single | Style::Combined);
        let style = match what.event {
            Event::Review => RefStyle::None,
            Event::ThirdParty => rng
                .pick(&[
                    RefStyle::Exact,
                    RefStyle::Compact,
                    RefStyle::Receivable,
                    RefStyle::Digits,
                ])
                .copied()
                .unwrap_or(RefStyle::Exact),
            _ => RefStyle::draw(rng, &mix, none_allowed),
        };
        let ids: Vec<String> = items
            .iter()
            .filter_map(|i| self.items.get(*i).map(|x| x.receivable_id.clone()))
            .collect();
        let r = reference(rng, style, &contract.no, &ids);
        let text = remittance(
            rng,
            r.as_deref(),
            style,
            what.installment,
            contract.fee,
            contract.unit.as_deref(),
        );
        let receiving =
            if what.event == Event::WrongAccount && self.projects.len() > 1 && rng.chance(3000) {
                let other = self
                    .projects
                    .iter()
                    .map(|p| p.1)
                    .find(|a| *a != contract.escrow);
                other.unwrap_or(0)
            } else if what.event == Event::WrongAccount {
                0
            } else {
                contract.escrow
            };
        let (currency, paid, booked) = if c.foreign {
            let rate = self
                .rates
                .convert(Decimal::ONE, "HKD", "CNY", date)
                .map(|x| x.rate);
            let hkd = rate
                .and_then(|r| amount.checked_div(r))
                .unwrap_or(amount)
                .round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero);
            let booked = self
                .rates
                .convert(hkd, "HKD", "CNY", date)
                .map_or(amount, |x| x.booked);
            ("HKD", hkd, booked)
        } else {
            ("CNY", amount, amount)
        };
        let expect = match what.event {
            Event::Normal => Expect::Auto,
            Event::Review => Expect::Review,
            _ => Expect::Exception,
        };
        let mut t = truth(what.category, style.label(), payer, expect);
        t.customer_id = Some(c.id.clone());
        t.exception = match what.event {
            Event::ThirdParty => Some("third_party_payer".into()),
            Event::WrongAccount => Some("wrong_receiving_account".into()),
            _ => None,
        };
        t.allocations = self.allocate(items, booked, what.event == Event::Normal);
        let line = Line {
            key: String::new(),
            date,
            amount: paid,
            currency,
            account: receiving,
            payer_name: Some(name),
            payer_account: Some(account),
            remittance: text,
        };
        let duplicate = what.event == Event::Normal && self.rng.chance(mix.duplicate);
        let dup_date = date + Days::new(1 + self.rng.below(3));
        self.lines.push((line.clone(), t));
        if duplicate && dup_date <= self.end() {
            let mut d = truth("duplicate", style.label(), payer, Expect::Exception);
            d.customer_id = Some(c.id.clone());
            d.exception = Some("duplicate".into());
            let mut copy = line;
            copy.date = dup_date;
            self.lines.push((copy, d));
            return dup_date;
        }
        date
    }

    /// The allocation the payment's intent gives (oldest open installment first, a small
    /// difference written off as the default policy does); applied to the generator's open
    /// amounts when the engine is expected to apply it.
    fn allocate(&mut self, items: &[usize], booked: Decimal, apply: bool) -> Vec<TruthAllocation> {
        let mut left = booked;
        let mut out = Vec::with_capacity(items.len());
        for (n, &i) in items.iter().enumerate() {
            let open = self.open.get(i).copied().unwrap_or_default();
            let take = left.min(open);
            if take > Decimal::ZERO {
                out.push(TruthAllocation {
                    receivable_id: self
                        .items
                        .get(i)
                        .map(|x| x.receivable_id.clone())
                        .unwrap_or_default(),
                    amount: take,
                });
            }
            left -= take;
            if apply && let Some(o) = self.open.get_mut(i) {
                let remaining = open - take;
                let last = n + 1 == items.len();
                *o = if last && remaining <= AUTO_WRITE_OFF {
                    Decimal::ZERO
                } else {
                    remaining
                };
            }
        }
        out
    }

    /// A credit that pays no receivable.
    pub(super) fn unrelated(&mut self) {
        let rng = &mut self.rng;
        let company = rng.chance(4000);
        let name = if company {
            people::company(rng).han
        } else {
            people::person(rng).han
        };
        let account = if company {
            people::company_account(rng)
        } else {
            people::card(rng)
        };
        let texts = [
            "货款",
            "往来款",
            "借款",
            "工资",
            "报销",
            "利息",
            "押金退还",
            "",
            "转账",
        ];
        let mut text = rng.pick(&texts).copied().unwrap_or("").to_string();
        if rng.chance(2000) {
            text = format!("退款 ORD{}", rng.digits(8));
        } else if rng.chance(1000) {
            text = format!("Invoice INV-{}", rng.digits(6));
        }
        let date = self.cfg.start + Days::new(rng.below(u64::from(self.cfg.days)));
        let amount = Decimal::new(rng.range(5_000, 8_000_000), 2);
        let receiving = if rng.chance(5000) {
            0
        } else {
            rng.index(self.accounts.len())
        };
        let line = Line {
            key: String::new(),
            date,
            amount,
            currency: "CNY",
            account: receiving,
            payer_name: Some(name),
            payer_account: Some(account),
            remittance: (!text.is_empty()).then_some(text),
        };
        self.lines
            .push((line, truth("unrelated", "none", "unrelated", Expect::None)));
    }

    /// Money out of the operating account (not a payment; the engine skips it).
    pub(super) fn debit(&mut self) {
        let rng = &mut self.rng;
        let date = self.cfg.start + Days::new(rng.below(u64::from(self.cfg.days)));
        let line = Line {
            key: String::new(),
            date,
            amount: -Decimal::new(rng.range(10_000, 20_000_000), 2),
            currency: "CNY",
            account: 0,
            payer_name: Some(people::company(rng).han),
            payer_account: Some(people::company_account(rng)),
            remittance: Some(
                rng.pick(&["工程款", "材料款", "税费"])
                    .copied()
                    .unwrap_or("工程款")
                    .to_string(),
            ),
        };
        self.lines
            .push((line, truth("debit", "none", "none", Expect::None)));
    }
}

/// Give every line its key (`B00000001`…, in date order) and return lines and truths of the
/// credits (debits are lines only).
pub(super) fn finish_lines(lines: Vec<(Line, TruthPayment)>) -> (Vec<Line>, Vec<TruthPayment>) {
    let mut out = Vec::with_capacity(lines.len());
    let mut truths = Vec::with_capacity(lines.len());
    for (n, (mut line, mut t)) in lines.into_iter().enumerate() {
        line.key = format!("B{:08}", n + 1);
        if line.amount > Decimal::ZERO {
            t.key.clone_from(&line.key);
            truths.push(t);
        }
        out.push(line);
    }
    (out, truths)
}
