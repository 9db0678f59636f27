//! What one customer does with one contract in the statement period: which installments it
//! pays, when, in one payment or several, with which noise (R-P4 cases), or a payment that must
//! go to a person (third party, wrong account, no reference from a new account).

use chrono::Days;
use rust_decimal::Decimal;

use super::rng::Rng;
use super::scenario::{Contract, Customer, Event, Gen, Style};

impl Gen<'_> {
    /// The customer's payments on one contract.
    pub(super) fn pay(&mut self, c: &mut Customer, contract: &Contract) {
        let mix = self.cfg.mix.clone();
        let last_due = self.end() - Days::new(5);
        let mut k = 0;
        while let Some(&first) = contract.items.get(k) {
            let due = self.items.get(first).map_or(last_due, |i| i.due_date);
            if due > last_due || self.rng.chance(400) {
                return;
            }
            let payable = contract
                .items
                .iter()
                .skip(k)
                .filter(|&&i| self.items.get(i).is_some_and(|x| x.due_date <= last_due))
                .count();
            let review = if c.contracts == 1 {
                mix.no_reference_new_account
            } else {
                0
            };
            let event = self
                .rng
                .weighted(&[
                    (Event::ThirdParty, mix.third_party),
                    (Event::WrongAccount, mix.wrong_account),
                    (Event::Review, review),
                    (
                        Event::Normal,
                        10_000u32.saturating_sub(mix.third_party + mix.wrong_account + review),
                    ),
                ])
                .unwrap_or(Event::Normal);
            let style = if event == Event::Normal {
                let domestic = if c.foreign { 0 } else { 1 };
                let combined = if payable >= 2 { mix.combined } else { 0 };
                let listed = combined
                    + mix.partial * domestic
                    + mix.overpayment
                    + mix.bank_charges * domestic;
                self.rng
                    .weighted(&[
                        (Style::Combined, combined),
                        (Style::Partial, mix.partial * domestic),
                        (Style::Over, mix.overpayment),
                        (Style::Charges, mix.bank_charges * domestic),
                        (Style::Single, 10_000u32.saturating_sub(listed)),
                    ])
                    .unwrap_or(Style::Single)
            } else {
                Style::Single
            };
            let mut date = due + chrono::Duration::days(self.rng.range(-7, 7));
            date = date.max(self.cfg.start + Days::new(self.rng.below(8)));
            // One payment a day per customer; the next installment of a contract at least
            // eight days after the last payment (a second payment of the same amount and text
            // within the duplicate window is indistinguishable from a duplicate).
            let gap = if k > 0 { 8 } else { 1 };
            if let Some(last) = c.last
                && date < last + Days::new(gap)
            {
                date = last + Days::new(gap);
            }
            if date > self.end() {
                return;
            }
            // R-P11: a surplus goes to the next installment once that is due, so an
            // overpayment is only "surplus unapplied" while the next one is not yet due.
            let next_due = contract
                .items
                .get(k + 1)
                .and_then(|&i| self.items.get(i))
                .map(|i| i.due_date);
            let style = if style == Style::Over && next_due.is_some_and(|d| d <= date) {
                Style::Single
            } else {
                style
            };
            let covered = match style {
                Style::Combined => (2 + self.rng.index(2)).min(payable),
                _ => 1,
            };
            let items: Vec<usize> = contract
                .items
                .iter()
                .skip(k)
                .take(covered)
                .copied()
                .collect();
            let due_amount: Decimal = items
                .iter()
                .filter_map(|&i| self.open.get(i))
                .copied()
                .sum();
            let amounts: Vec<Decimal> = match style {
                Style::Over => {
                    // Up to 30% more than due: less than the next installment, so the surplus
                    // stays unapplied (a bigger sum would prepay whole installments).
                    let pct = Decimal::new(self.rng.range(1, 30), 2);
                    vec![due_amount + (due_amount * pct).round_dp(2)]
                }
                Style::Charges => vec![due_amount - Decimal::new(self.rng.range(10, 100), 2)],
                Style::Partial => split(&mut self.rng, due_amount),
                _ => vec![due_amount],
            };
            for (part, amount) in amounts.iter().enumerate() {
                if part > 0 {
                    date = date + Days::new(2 + self.rng.below(7));
                    if date > self.end() {
                        return;
                    }
                }
                let category = match (event, style) {
                    (Event::ThirdParty, _) => "third_party",
                    (Event::WrongAccount, _) => "wrong_account",
                    (Event::Review, _) => "no_reference_new_account",
                    (_, Style::Combined) => "combined",
                    (_, Style::Partial) => "partial",
                    (_, Style::Over) => "overpayment",
                    (_, Style::Charges) => "bank_charges",
                    _ if c.foreign => "fx",
                    _ => "single",
                };
                let what = super::emit::What {
                    event,
                    style,
                    category,
                    installment: k + 1,
                };
                let last = self.emit(c, contract, &what, &items, *amount, date);
                c.last = Some(last);
            }
            if event != Event::Normal {
                return;
            }
            k += covered;
        }
    }
}

/// An amount in two or three different positive parts.
fn split(rng: &mut Rng, total: Decimal) -> Vec<Decimal> {
    let n = 2 + rng.index(2);
    let mut parts = Vec::with_capacity(n);
    let mut left = total;
    for i in 0..n - 1 {
        let share = Decimal::from(rng.range(25, 55)) / Decimal::from(100);
        let mut p = (left * share).round_dp(if rng.chance(5000) { 0 } else { 2 });
        if parts.contains(&p) || p <= Decimal::ZERO || p >= left {
            p = (left / Decimal::from(n - i)).round_dp(2)
                + Decimal::new(i64::try_from(i).unwrap_or(0) + 1, 2);
        }
        parts.push(p);
        left -= p;
    }
    // Parts of equal amount and text within days would be duplicates (R-P5): keep them apart.
    if parts.contains(&left) {
        if let Some(first) = parts.first_mut() {
            *first += Decimal::new(1, 2);
        }
        left -= Decimal::new(1, 2);
    }
    parts.push(left);
    parts
}
