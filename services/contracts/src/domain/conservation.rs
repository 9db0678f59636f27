//! The books balance (issue 12): for every customer at every step,
//! Σ billed = Σ paid + Σ waived + Σ written off + Σ discounted + Σ open, where billed is
//! everything charged (principal billed, late fee and interest accrued, costs booked).
//! Property-tested over random sequences of the domain's own operations: accruals
//! ([`Book::accrue_to`]), costs, payments allocated across the customer's debts with the one
//! rule and booked per debt ([`owed::book`]) with the early-payment discount they earn
//! ([`discount::early_payment`], R-C7), waivers ([`waiver::approve`]) and write-offs
//! ([`write_off::book`]).

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;
    use money::allocation::{Debt, OrderTerms, Security, allocate};
    use proptest::prelude::*;
    use rust_decimal::Decimal;

    use crate::domain::discount::{self, Step, Terms};
    use crate::domain::owed::{self, Book, Component, Owed};
    use crate::domain::{waiver, write_off};

    const FEN: Decimal = Decimal::from_parts(1, 0, 0, false, 2);

    fn yuan(fen: i64) -> Decimal {
        Decimal::new(fen, 2)
    }

    /// One receivable's books.
    #[derive(Debug, Clone)]
    struct Item {
        due: NaiveDate,
        principal: Book,
        late_fee: Book,
        interest: Book,
        costs: Book,
    }

    impl Item {
        fn owed(&self) -> Owed {
            Owed {
                costs: self.costs.open,
                interest: self.interest.open,
                late_fee: self.late_fee.open,
                principal: self.principal.open,
            }
        }

        fn set_owed(&mut self, o: &Owed) {
            self.costs.open = o.costs;
            self.interest.open = o.interest;
            self.late_fee.open = o.late_fee;
            self.principal.open = o.principal;
        }

        fn charged(&self) -> Decimal {
            self.principal.charged
                + self.late_fee.charged
                + self.interest.charged
                + self.costs.charged
        }
    }

    #[derive(Debug, Default)]
    struct Totals {
        billed: Decimal,
        paid: Decimal,
        waived: Decimal,
        written_off: Decimal,
        discounted: Decimal,
    }

    #[derive(Debug, Clone)]
    enum Op {
        /// Late fee (or interest) of item i recomputed to this total.
        Accrue {
            item: usize,
            interest: bool,
            to: i64,
        },
        Cost {
            item: usize,
            amount: i64,
        },
        Pay {
            amount: i64,
            named: Option<usize>,
            /// Days after 2026-01-01 the payment is booked.
            day: u16,
        },
        Waive {
            item: usize,
            component: u8,
            share: u8,
        },
        WriteOff {
            item: usize,
            amount: i64,
        },
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            (0usize..4, any::<bool>(), 0i64..200_000).prop_map(|(item, interest, to)| Op::Accrue {
                item,
                interest,
                to
            }),
            (0usize..4, 1i64..100_000).prop_map(|(item, amount)| Op::Cost { item, amount }),
            (1i64..3_000_000, proptest::option::of(0usize..4), 0u16..365)
                .prop_map(|(amount, named, day)| Op::Pay { amount, named, day }),
            (0usize..4, 0u8..3, 1u8..=100).prop_map(|(item, component, share)| Op::Waive {
                item,
                component,
                share
            }),
            (0usize..4, 1i64..600).prop_map(|(item, amount)| Op::WriteOff { item, amount }),
        ]
    }

    fn apply(items: &mut [Item], t: &mut Totals, op: &Op) {
        let year = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap_or_default();
        // R-C7: 5 % off paid 30 days early, 2 % paid 10 days early.
        let terms = Terms {
            lump_sum_percent: None,
            early_payment: vec![
                Step {
                    days_before_due: 10,
                    percent: Decimal::new(2, 0),
                },
                Step {
                    days_before_due: 30,
                    percent: Decimal::new(5, 0),
                },
            ],
        };
        match *op {
            Op::Accrue { item, interest, to } => {
                let Some(it) = items.get_mut(item) else {
                    return;
                };
                let book = if interest {
                    &mut it.interest
                } else {
                    &mut it.late_fee
                };
                let before = book.charged;
                *book = book.accrue_to(yuan(to));
                t.billed += book.charged - before;
            }
            Op::Cost { item, amount } => {
                let Some(it) = items.get_mut(item) else {
                    return;
                };
                it.costs.charged += yuan(amount);
                it.costs.open += yuan(amount);
                t.billed += yuan(amount);
            }
            Op::Pay { amount, named, day } => {
                let on = year + chrono::Days::new(u64::from(day));
                // Payments proposes across the customer's debts; contracts books per debt.
                let debts: Vec<Debt<usize>> = items
                    .iter()
                    .enumerate()
                    .map(|(i, it)| Debt {
                        key: i,
                        due: it.due,
                        security: Security::Unsecured,
                        burden: Decimal::ZERO,
                        named: named == Some(i),
                        owed: it.owed(),
                    })
                    .collect();
                let a = allocate(yuan(amount), on, &debts, &OrderTerms::Statutory, FEN);
                for (i, it) in items.iter_mut().enumerate() {
                    let to_debt = a.to_debt(&i);
                    if to_debt.is_zero() {
                        continue;
                    }
                    let booking = owed::book(
                        &it.owed(),
                        "CNY",
                        to_debt,
                        "CNY",
                        &OrderTerms::Statutory,
                        FEN,
                    )
                    .expect("a proposal within what is owed is booked");
                    let mut after = booking.after;
                    // As the handler does: paid early enough, the rest of the principal is
                    // the discount earned, taken off with the payment.
                    if after.total() == after.principal
                        && let Some(earned) = discount::early_payment(
                            &terms,
                            it.principal.charged,
                            it.due,
                            on,
                            after.principal,
                            2,
                        )
                    {
                        after.principal -= earned.amount;
                        t.discounted += earned.amount;
                    }
                    it.set_owed(&after);
                    t.paid += booking.parts.iter().map(|(_, x)| *x).sum::<Decimal>();
                }
            }
            Op::Waive {
                item,
                component,
                share,
            } => {
                let Some(it) = items.get_mut(item) else {
                    return;
                };
                let component = [Component::Costs, Component::Interest, Component::LateFee]
                    [usize::from(component)];
                let open = it.owed().get(component);
                let amount = (open * Decimal::from(share) / Decimal::from(100)).round_dp(2);
                if let Ok(waiver::Approval::Booked(after)) = waiver::approve(
                    waiver::Status::Proposed,
                    "proposer",
                    waiver::Approver {
                        subject: "approver",
                        risk: false,
                    },
                    waiver::Levels {
                        second_required: false,
                        first_approver: None,
                    },
                    &it.owed(),
                    component,
                    amount,
                ) {
                    it.set_owed(&after);
                    t.waived += amount;
                }
            }
            Op::WriteOff { item, amount } => {
                let Some(it) = items.get_mut(item) else {
                    return;
                };
                let before = it.owed().total();
                let (_, after) = write_off::book(&it.owed(), yuan(amount), FEN);
                it.set_owed(&after);
                t.written_off += before - after.total();
            }
        }
    }

    proptest! {
        #[test]
        fn billed_is_paid_plus_waived_plus_written_off_plus_open(
            principals in prop::collection::vec((1i64..5_000_000, 1u32..=12), 1..4),
            ops in prop::collection::vec(op(), 0..40)
        ) {
            let mut items: Vec<Item> = principals
                .iter()
                .map(|(p, m)| Item {
                    due: NaiveDate::from_ymd_opt(2026, *m, 10).unwrap_or_default(),
                    principal: Book { charged: yuan(*p), open: yuan(*p) },
                    late_fee: Book { charged: Decimal::ZERO, open: Decimal::ZERO },
                    interest: Book { charged: Decimal::ZERO, open: Decimal::ZERO },
                    costs: Book { charged: Decimal::ZERO, open: Decimal::ZERO },
                })
                .collect();
            let mut t = Totals {
                billed: items.iter().map(Item::charged).sum(),
                ..Totals::default()
            };
            for op in &ops {
                apply(&mut items, &mut t, op);
                let open: Decimal = items.iter().map(|i| i.owed().total()).sum();
                prop_assert_eq!(
                    t.billed,
                    t.paid + t.waived + t.written_off + t.discounted + open,
                    "after {:?}: {:?} open {}", op, t, open
                );
                prop_assert_eq!(t.billed, items.iter().map(Item::charged).sum::<Decimal>());
                for it in &items {
                    for c in Component::ALL {
                        prop_assert!(it.owed().get(c) >= Decimal::ZERO, "{:?}", it);
                    }
                }
            }
        }
    }
}
