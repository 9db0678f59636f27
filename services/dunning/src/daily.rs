//! The day's ladder run (R-D1, R-D3, R-D7, R-D12; issue 13 items 1-2): once dunning has every
//! overdue event of a business day (contracts says how many with `DailyCycleCompleted`), the
//! policy engine decides for each debtor with an active case the one step to take, covering
//! all of their overdue items across contracts, or why the ladder holds. A step becomes an
//! action (with the policy's id and version), a written notice where the channel carries one
//! (stored as HTML and PDF with its SHA-256), a fee booked once per notice, and a message or a
//! collector's task at a time the conduct rules allow; the hardest steps hand the case to
//! legal. The run goes through the debtors in chunks, each one transaction that records how
//! far it got, so a crash resumes it and the same day never runs twice.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use chrono::{DateTime, Datelike, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use rust_decimal::Decimal;
use sha2::Digest as _;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use kit::outbox::Outbox;
use kit::wire;
use proto::events::v1 as events;

use crate::notice::{Line, Notice};
use crate::outreach::{Conduct, Outgoing};
use crate::policy::{self, Channel, Decision, Hold, Policy, StepDef};
use crate::store::{self, contacts::Debtor, ladder::OpenItem};

/// Debtors decided per transaction.
const CHUNK: i64 = 200;

/// How many days beyond the policy's pre-due lead R-D10 may pull a reminder earlier: the
/// profile's shift (7 days) plus the longest holiday run.
const PRE_HOLIDAY_REACH: u64 = 21;

/// Everything the run needs.
pub struct Ladder {
    /// The database.
    pub pool: PgPool,
    /// The outbox of dunning's events.
    pub outbox: Outbox,
    /// The policy in force.
    pub policy: Arc<Policy>,
    /// Conduct profiles and calendars.
    pub conduct: Arc<Conduct>,
    /// The font notices embed.
    pub font: Arc<documents::Font>,
    /// Who issues notices (printed on them).
    pub issuer: String,
    /// How long a day waits for its overdue events before it runs with what it has.
    pub wait: Duration,
}

/// What a finished day did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DayRun {
    /// The business date.
    pub date: NaiveDate,
    /// Steps taken.
    pub steps: i32,
    /// Holds started or changed.
    pub holds: i32,
}

/// Where a chunk left the day.
enum Chunk {
    /// More debtors with a case to go.
    More,
    /// Every debtor with a case is done.
    CasesDone,
    /// The day is done.
    Finished(DayRun),
}

/// Runs the pending days forever (every replica may: chunks lock the day's row).
pub fn spawn(ladder: Arc<Ladder>) {
    tokio::spawn(async move {
        loop {
            match ladder.run_pending().await {
                Ok(Some(run)) => {
                    tracing::info!(date = %run.date, steps = run.steps, holds = run.holds, "dunning day done");
                    continue;
                }
                Ok(None) => {}
                Err(error) => {
                    tracing::error!(
                        error = format!("{error:#}"),
                        "dunning day run failed; it resumes where it stopped in a few seconds (check the database)"
                    );
                    tokio::time::sleep(Duration::from_secs(5)).await;
                }
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    });
}

impl Ladder {
    /// Runs the earliest day not done, if its events are in. Returns it when it finished.
    ///
    /// # Errors
    /// The database, or a notice that cannot be rendered.
    pub async fn run_pending(&self) -> anyhow::Result<Option<DayRun>> {
        let mut conn = self.pool.acquire().await?;
        let Some(day) = store::ladder::next_day(&mut conn).await? else {
            return Ok(None);
        };
        if day.status == "waiting" {
            let seen = store::ladder::seen(&mut conn, day.date).await?;
            if seen < i64::from(day.expected) {
                let waited = store::ladder::waited(&mut conn, day.date).await?;
                if waited < self.wait.as_secs_f64() {
                    return Ok(None);
                }
                tracing::warn!(
                    date = %day.date, seen, expected = day.expected,
                    "dunning ran the day without every overdue event contracts published; check the consumer's lag and dead letters"
                );
            }
            store::ladder::start(&mut conn, day.date).await?;
        }
        drop(conn);
        loop {
            match self.chunk(day.date).await? {
                Chunk::More => {}
                Chunk::Finished(run) => return Ok(Some(run)),
                Chunk::CasesDone => {
                    // R-D1: then the debtors whose items fall due soon (none overdue).
                    let reminded = self.pre_due(day.date).await?;
                    let mut tx = self.pool.begin().await?;
                    let Some(locked) = store::ladder::lock_day(&mut tx, day.date).await? else {
                        return Ok(None);
                    };
                    if locked.status == "done" {
                        return Ok(None);
                    }
                    let (steps, holds) = store::ladder::finish(&mut tx, day.date).await?;
                    tx.commit().await?;
                    tracing::info!(date = %day.date, reminded, "pre-due reminders");
                    return Ok(Some(DayRun {
                        date: day.date,
                        steps: steps + reminded,
                        holds,
                    }));
                }
            }
        }
    }

    /// R-D1: reminders before and on the due date for debtors with nothing overdue, once per
    /// debtor, due date and step. Each chunk commits; a repeat finds them sent.
    async fn pre_due(&self, date: NaiveDate) -> anyhow::Result<i32> {
        let Some(lead) = self.policy.pre_due_lead() else {
            return Ok(0);
        };
        // R-D10 moves a reminder up to a week and a holiday's length earlier: look that far.
        let to = date + chrono::Days::new(u64::from(lead) + PRE_HOLIDAY_REACH);
        let mut after = None;
        let mut sent = 0;
        loop {
            let mut tx = self.pool.begin().await?;
            let rows = store::ladder::upcoming_due(&mut tx, date, to, after, CHUNK).await?;
            let Some(last) = rows.last().map(|u| u.customer_id) else {
                break;
            };
            for items in rows.chunk_by(|a, b| a.customer_id == b.customer_id) {
                if self.remind(&mut tx, date, items).await? {
                    sent += 1;
                }
            }
            tx.commit().await?;
            after = Some(last);
        }
        Ok(sent)
    }

    /// One debtor's pre-due reminder, if the policy has one due today.
    async fn remind(
        &self,
        tx: &mut PgConnection,
        date: NaiveDate,
        items: &[store::ladder::Upcoming],
    ) -> anyhow::Result<bool> {
        let Some(first) = items.first() else {
            return Ok(false);
        };
        // Amounts of different currencies are never added up: the items in the currency of
        // the one falling due first.
        let same: Vec<store::ladder::Upcoming> = items
            .iter()
            .filter(|u| u.currency == first.currency)
            .cloned()
            .collect();
        let items = &same[..];
        let customer_id = first.customer_id;
        let oldest = first.due_date;
        let taken: Vec<policy::Taken> = store::ladder::reminders_sent(tx, customer_id, oldest)
            .await?
            .into_iter()
            .map(|(code, severity, on)| policy::Taken {
                code,
                severity: u32::try_from(severity).unwrap_or_default(),
                on,
            })
            .collect();
        let engine_items: Vec<policy::Item> = items
            .iter()
            .map(|u| policy::Item {
                due: u.due_date,
                open: u.open_amount,
            })
            .collect();
        let debtor = policy::Debtor {
            grade: "",
            segment: None,
            occupancy: None,
            items: &engine_items,
            taken: &taken,
        };
        // R-D10: the reminder planned for a later day goes out today when the day before a
        // traditional holiday moves it here; one contact a day, the nearest planned day first.
        let contact_row = store::contacts::debtor(tx, customer_id).await?;
        let mut chosen = None;
        for offset in 0..=(oldest - date).num_days().max(0) {
            let planned = date + chrono::Days::new(offset.unsigned_abs());
            let sends_on = match self
                .conduct
                .pre_holiday(&contact_row.conduct_profile, planned)
            {
                Ok(day) => day,
                Err(error) => {
                    tracing::warn!(%customer_id, %error, "pre-holiday date unknown; the reminder keeps its day");
                    planned
                }
            };
            if sends_on != date {
                continue;
            }
            if let Decision::Take {
                step,
                items: covered,
                amount,
                ..
            } = policy::decide(&self.policy, &debtor, planned)
                && step.when.to_day.is_some_and(|t| t <= 0)
            {
                chosen = Some((step, covered, amount));
                break;
            }
        }
        let Some((step, covered, amount)) = chosen else {
            return Ok(false);
        };
        let policy = &self.policy;
        let version = i32::try_from(policy.version).unwrap_or(i32::MAX);
        if !store::ladder::reminder_sent(
            tx,
            customer_id,
            oldest,
            &step.code,
            i32::try_from(step.severity).unwrap_or(i32::MAX),
            date,
            &policy.id,
            version,
        )
        .await?
        {
            return Ok(false);
        }
        let currency = first.currency.clone();
        let covered: Vec<&store::ladder::Upcoming> = covered.iter().map(|i| &items[*i]).collect();
        let vars = vec![
            (
                "name",
                contact_row.addressed_as(contact_row.language == "en"),
            ),
            ("amount", wire::format_amount(amount, &currency)),
            ("due_date", oldest.to_string()),
            ("days", (oldest - date).num_days().to_string()),
            ("as_of", date.to_string()),
            ("unit", contact_row.unit.clone()),
            (
                "breakdown",
                covered
                    .iter()
                    .map(|u| {
                        item_text(
                            &u.charge_type,
                            u.due_date,
                            u.open_amount,
                            &u.currency,
                            contact_row.language == "en",
                        )
                    })
                    .collect::<Vec<_>>()
                    .join(if contact_row.language == "en" {
                        ", "
                    } else {
                        "、"
                    }),
            ),
        ];
        let (language, template) = step
            .template(&contact_row.language)
            .unwrap_or(("zh-CN", ""));
        let text = policy::render(template, &vars);
        let at = local_time(&contact_row, date, step.channel);
        let key = format!("pre-due:{customer_id}:{oldest}:{}", step.code);
        if matches!(
            step.channel,
            Channel::Sms | Channel::Email | Channel::AppMessage
        ) {
            let Some((_, address, _)) = contact_row
                .contacts
                .iter()
                .find(|(c, _, r)| c == step.channel.as_str() && r == "debtor")
            else {
                tracing::info!(%customer_id, step = %step.code, "pre-due reminder not sent: no contact of the debtor on file for its channel");
                return Ok(false);
            };
            let planned = match self
                .conduct
                .plan_for(tx, &contact_row, step.channel, at)
                .await?
            {
                Ok(planned) => planned,
                Err(refused) => {
                    tracing::warn!(%customer_id, step = %step.code, %refused, "pre-due reminder not sent");
                    return Ok(false);
                }
            };
            let message = Outgoing {
                customer_id,
                case_id: None,
                channel: step.channel,
                address: address.clone(),
                template: format!("{}@{}/{}/{language}", policy.id, policy.version, step.code),
                language: language.to_owned(),
                subject: Outgoing::reminder_subject(language),
                body: text,
                notice_id: None,
                requested_at: Utc::now(),
                requested_by: "system".to_owned(),
            }
            .scheduled(planned);
            store::contacts::insert_message(tx, &message, Some(&key)).await?;
        } else {
            let ask = TaskAsk {
                channel: step.channel,
                step: &step.code,
                at,
                note: &text,
                notice_id: None,
                action_id: Uuid::now_v7(),
            };
            self.task(tx, &contact_row, None, &ask).await?;
        }
        Ok(true)
    }

    /// One chunk of debtors with an active case of `date`, in one transaction.
    async fn chunk(&self, date: NaiveDate) -> anyhow::Result<Chunk> {
        let mut tx = self.pool.begin().await?;
        let Some(day) = store::ladder::lock_day(&mut tx, date).await? else {
            return Ok(Chunk::Finished(DayRun {
                date,
                steps: 0,
                holds: 0,
            }));
        };
        if day.status == "done" {
            return Ok(Chunk::Finished(DayRun {
                date,
                steps: 0,
                holds: 0,
            }));
        }
        let cases = store::ladder::debtors(&mut tx, day.after_customer, CHUNK).await?;
        let Some(last) = cases.last().map(|c| c.customer_id) else {
            return Ok(Chunk::CasesDone);
        };
        let ids: Vec<Uuid> = cases.iter().map(|c| c.case_id).collect();
        let customers: Vec<Uuid> = cases.iter().map(|c| c.customer_id).collect();
        // R-D6: repayment plans are judged first: a completed or broken one gives its items
        // back to the ladder below, a broken one with a floor (escalation).
        let mut floors: std::collections::HashMap<Uuid, u32> = std::collections::HashMap::new();
        let mut in_plan: std::collections::HashSet<Uuid> = std::collections::HashSet::new();
        for plan in store::plans::active_of(&mut tx, &customers).await? {
            let Some(case) = cases.iter().find(|c| c.case_id == plan.case_id) else {
                continue;
            };
            match self.judge_plan(&mut tx, date, case, &plan).await? {
                PlanOutcome::Kept => {
                    in_plan.insert(case.case_id);
                }
                PlanOutcome::Ended => {}
                PlanOutcome::Broken(Some(floor)) => {
                    floors.insert(case.case_id, floor);
                }
                PlanOutcome::Broken(None) => {}
            }
        }
        let items = store::ladder::open_items(&mut tx, &ids).await?;
        let taken = store::ladder::taken(&mut tx, &ids).await?;
        let promises = store::promises::open_of(&mut tx, &customers).await?;
        let (mut steps, mut holds) = (0, 0);
        for case in &cases {
            // R-D5: a promise to pay holds the ladder until judged; a broken one resumes it.
            if let Some(promise) = promises.iter().find(|p| p.customer_id == case.customer_id)
                && !self.judge_promise(&mut tx, date, case, promise).await?
            {
                if store::ladder::hold(
                    &mut tx,
                    case.case_id,
                    date,
                    PROMISE_HOLD,
                    &case.current_step,
                )
                .await?
                {
                    holds += 1;
                }
                continue;
            }
            let mine: Vec<&OpenItem> = items.iter().filter(|i| i.case_id == case.case_id).collect();
            if mine.is_empty() && in_plan.contains(&case.case_id) {
                // R-D6, R-D12: everything owed is in a plan that is kept.
                if store::ladder::hold(&mut tx, case.case_id, date, PLAN_HOLD, &case.current_step)
                    .await?
                {
                    holds += 1;
                }
                continue;
            }
            let floor = floors
                .get(&case.case_id)
                .copied()
                .or_else(|| case.escalate_above.and_then(|s| u32::try_from(s).ok()));
            let engine_taken: Vec<policy::Taken> = taken
                .iter()
                .filter(|t| t.case_id == case.case_id)
                .map(|t| policy::Taken {
                    code: t.step.clone(),
                    severity: u32::try_from(t.severity).unwrap_or_default(),
                    on: t.on,
                })
                .collect();
            // Amounts of different currencies are never added up: the debtor's items are
            // decided by currency, the oldest item's first; one step a day for the debtor
            // whatever its currency (the steps taken count across currencies).
            let mut currencies: Vec<&str> = Vec::new();
            for i in &mine {
                if !currencies.contains(&i.currency.as_str()) {
                    currencies.push(&i.currency);
                }
            }
            let groups: Vec<Vec<&OpenItem>> = currencies
                .iter()
                .map(|c| mine.iter().copied().filter(|i| i.currency == *c).collect())
                .collect();
            let engine_items: Vec<Vec<policy::Item>> = groups
                .iter()
                .map(|g| {
                    g.iter()
                        .map(|i| policy::Item {
                            due: i.due_date,
                            open: i.owed(),
                        })
                        .collect()
                })
                .collect();
            let views: Vec<policy::Debtor<'_>> = engine_items
                .iter()
                .map(|items| policy::Debtor {
                    grade: &case.grade,
                    // From the unit billing last reported (R-C3); none for purchase contracts.
                    segment: case.segment.as_deref().and_then(policy::Segment::parse),
                    occupancy: case.occupancy.as_deref().and_then(policy::Occupancy::parse),
                    items,
                    taken: &engine_taken,
                })
                .collect();
            match policy::decide_each_above(&self.policy, &views, date, floor) {
                (_, Decision::Nothing | Decision::Hold(Hold::AlreadyToday)) => {}
                (_, Decision::Hold(hold)) => {
                    if store::ladder::hold(
                        &mut tx,
                        case.case_id,
                        date,
                        hold.as_str(),
                        &case.current_step,
                    )
                    .await?
                    {
                        holds += 1;
                        tracing::info!(case_id = %case.case_id, reason = hold.as_str(), "dunning case holds");
                    }
                }
                (
                    view,
                    Decision::Take {
                        step,
                        n,
                        items: covered,
                        amount,
                    },
                ) => {
                    let covered: Vec<&OpenItem> =
                        covered.iter().map(|i| groups[view][*i]).collect();
                    self.take(&mut tx, date, case, step, n, &covered, amount)
                        .await?;
                    if floor.is_some() {
                        // The escalation a broken plan asked for happened.
                        store::plans::escalate_above(&mut tx, case.case_id, None).await?;
                    }
                    steps += 1;
                }
            }
        }
        store::ladder::progress(&mut tx, date, last, steps, holds).await?;
        tx.commit().await?;
        // Issue 16 item 3: the day's progress for operators.
        if let Some(m) = kit::metrics::get() {
            m.service
                .with_label_values(&["dunning_day_debtors_done"])
                .add(i64::try_from(cases.len()).unwrap_or(i64::MAX));
        }
        Ok(Chunk::More)
    }

    /// Takes `step` for the case: action, notice, fee, message or task, or the hand-off.
    #[allow(clippy::too_many_arguments)]
    async fn take(
        &self,
        tx: &mut PgConnection,
        date: NaiveDate,
        case: &store::ladder::Case,
        step: &StepDef,
        n: u32,
        covered: &[&OpenItem],
        amount: Decimal,
    ) -> anyhow::Result<()> {
        let Some(oldest) = covered.first() else {
            return Ok(());
        };
        let currency = oldest.currency.clone();
        let days = i32::try_from((date - oldest.due_date).num_days().max(0)).unwrap_or(i32::MAX);
        let debtor = store::contacts::debtor(tx, case.customer_id).await?;
        let action_id = Uuid::now_v7();
        let policy = &self.policy;
        let next = policy.next_after(step);
        let amount_text = format!("{} {currency}", wire::format_amount(amount, &currency));
        let pay_by = date + chrono::Days::new(7);
        let (language, template) = step.template(&debtor.language).unwrap_or(("zh-CN", ""));
        let language = language.to_owned();
        let en = language == "en";
        let next_step = next.map_or_else(
            || {
                if en {
                    "pursue the debt at law"
                } else {
                    "依法追收"
                }
                .to_owned()
            },
            |s| next_step_text(s.channel, en).to_owned(),
        );
        let mut vars = vec![
            ("name", debtor.addressed_as(en)),
            ("amount", wire::format_amount(amount, &currency)),
            ("days", days.to_string()),
            ("due_date", oldest.due_date.to_string()),
            ("n", n.to_string()),
            ("as_of", date.to_string()),
            ("pay_by", pay_by.to_string()),
            ("late_fee_rate", late_fee_terms(covered, en)),
            ("next_step", next_step.clone()),
            ("unit", debtor.unit.clone()),
            ("breakdown", breakdown(covered, en)),
        ];
        let text = policy::render(template, &vars);
        let template_id = format!("{}@{}/{}/{language}", policy.id, policy.version, step.code);

        // R-D3: the written notice, one per debtor for every overdue item.
        let notice = if carries_notice(step.channel) {
            let number = store::contacts::next_notice_number(tx, date.year()).await?;
            let notice = Notice {
                number: number.clone(),
                date,
                debtor: vars[0].1.clone(),
                address: if debtor.unit.is_empty() {
                    Vec::new()
                } else {
                    vec![debtor.unit.clone()]
                },
                n,
                signature_required: step.signature_required,
                currency: currency.clone(),
                lines: covered.iter().map(|i| line(i, en)).collect(),
                late_fee_rate: late_fee_terms(covered, en),
                pay_by,
                next_step,
                fee: step.fee,
                issuer: self.issuer.clone(),
                lang: if en {
                    documents::Lang::En
                } else {
                    documents::Lang::ZhCn
                },
            };
            let document = notice.document().context("the notice document")?;
            let html = documents::to_html(&document);
            let pdf = documents::to_pdf(&document, &self.font).context("the notice PDF")?;
            let sha256 = sha2::Sha256::digest(&pdf).to_vec();
            let row = store::contacts::NoticeRow {
                id: Uuid::now_v7(),
                number,
                case_id: case.case_id,
                customer_id: case.customer_id,
                action_id,
                step: step.code.clone(),
                occurrence: i32::try_from(n).unwrap_or(i32::MAX),
                business_date: date,
                currency: currency.clone(),
                total: notice.total(),
                fee: step.fee,
                pay_by,
                language: language.clone(),
                sha256,
            };
            store::contacts::insert_notice(tx, &row, &pdf, &html).await?;
            vars.push(("notice_no", row.number.clone()));
            Some(row)
        } else {
            None
        };

        // R-D3: a fee charged once per notice, booked by contracts as a cost owed on the
        // oldest item; the action id is the cost id, so a redelivered event books it once.
        if step.fee > Decimal::ZERO {
            let cost = events::CollectionCostIncurred {
                cost_id: action_id.to_string(),
                customer_id: case.customer_id.to_string(),
                receivable_id: oldest.receivable_id.to_string(),
                kind: proto::types::v1::CostKind::NoticeFee as i32,
                amount: Some(wire::money(step.fee, &currency)),
                incurred_on: date.to_string(),
                source: format!("dunning case {}", case.case_id),
                description: match &notice {
                    Some(n) => format!("{} {} (notice {})", step.code, n.occurrence, n.number),
                    None => format!("{} {n}", step.code),
                },
            };
            self.outbox
                .enqueue(
                    tx,
                    kit::events::DUNNING,
                    &case.customer_id.to_string(),
                    &cost,
                )
                .await?;
        }

        let receivable_ids: Vec<Uuid> = covered.iter().map(|i| i.receivable_id).collect();
        let mut detail = format!(
            "{} #{n} by {}: {amount_text} owed on {} item(s), oldest {days} days overdue",
            step.code,
            step.channel.as_str(),
            covered.len()
        );
        let late_fees: Decimal = covered.iter().map(|i| i.late_fee).sum();
        if !late_fees.is_zero() {
            // R-D3: the late fees are stated apart from the principal.
            detail.push_str(&format!(
                " (late fees {} {currency} of it)",
                wire::format_amount(late_fees, &currency)
            ));
        }
        if let Some(notice) = &notice {
            detail.push_str(&format!("; notice {} (pay by {pay_by})", notice.number));
        }
        if step.fee > Decimal::ZERO {
            detail.push_str(&format!(
                "; fee {} {currency} booked",
                wire::format_amount(step.fee, &currency)
            ));
        }
        let at = local_time(&debtor, date, step.channel);
        match step.channel {
            Channel::Sms | Channel::Email | Channel::AppMessage => {
                let contact = debtor.contacts.iter().find(|(channel, _, recipient)| {
                    channel == step.channel.as_str() && recipient == "debtor"
                });
                match contact {
                    // A written notice still reaches the debtor: by post, a collector's task.
                    None if notice.is_some() => {
                        detail.push_str(&format!(
                            "; no {} contact of the debtor on file: the notice goes by post",
                            step.channel.as_str()
                        ));
                        let task = TaskAsk {
                            channel: Channel::Letter,
                            step: &step.code,
                            at,
                            note: &text,
                            notice_id: notice.as_ref().map(|n| n.id),
                            action_id,
                        };
                        detail.push_str(&self.task(tx, &debtor, Some(case.case_id), &task).await?);
                    }
                    None => detail.push_str(&format!(
                        "; not sent: no {} contact of the debtor on file (add one with `collectctl dunning contacts set`)",
                        step.channel.as_str()
                    )),
                    Some((_, address, _)) => {
                        match self.conduct.plan_for(tx, &debtor, step.channel, at).await? {
                            Err(refused) => detail.push_str(&format!("; not sent: {refused}")),
                            Ok(planned) => {
                                let subject = match &notice {
                                    Some(n) if language == "en" => format!("Payment notice {}", n.number),
                                    Some(n) => format!("催缴通知书 {}", n.number),
                                    None => Outgoing::reminder_subject(&language),
                                };
                                let message = Outgoing {
                                    customer_id: case.customer_id,
                                    case_id: Some(case.case_id),
                                    channel: step.channel,
                                    address: address.clone(),
                                    template: template_id.clone(),
                                    language: language.clone(),
                                    subject,
                                    body: text.clone(),
                                    notice_id: notice.as_ref().map(|n| n.id),
                                    requested_at: Utc::now(),
                                    requested_by: "system".to_owned(),
                                }
                                .scheduled(planned);
                                store::contacts::insert_message(
                                    tx,
                                    &message,
                                    Some(&format!("action:{action_id}")),
                                )
                                .await?;
                                detail.push_str(&format!(
                                    "; {} message{}",
                                    step.channel.as_str(),
                                    scheduled_text(planned)
                                ));
                            }
                        }
                    }
                }
            }
            Channel::PhoneCall
            | Channel::Visit
            | Channel::DoorNotice
            | Channel::Letter
            | Channel::LawyerLetter => {
                let task = TaskAsk {
                    channel: step.channel,
                    step: &step.code,
                    at,
                    note: &text,
                    notice_id: notice.as_ref().map(|n| n.id),
                    action_id,
                };
                detail.push_str(&self.task(tx, &debtor, Some(case.case_id), &task).await?);
            }
            Channel::PaymentOrderRequest | Channel::LitigationHandoff => {}
        }

        store::ladder::record_action(
            tx,
            &store::ladder::StepRecord {
                action_id,
                case_id: case.case_id,
                step: &step.code,
                receivable_ids: &receivable_ids,
                days,
                date,
                detail: &detail,
                policy_id: &policy.id,
                policy_version: i32::try_from(policy.version).unwrap_or(i32::MAX),
                channel: Some(step.channel.as_str()),
                occurrence: i32::try_from(n).unwrap_or(i32::MAX),
                severity: i32::try_from(step.severity).unwrap_or(i32::MAX),
                amount: Some((amount, &currency)),
                notice_id: notice.as_ref().map(|n| n.id),
            },
        )
        .await?;
        store::ladder::stepped(
            tx,
            case.case_id,
            &step.code,
            &policy.id,
            i32::try_from(policy.version).unwrap_or(i32::MAX),
        )
        .await?;
        let event = events::ActionExecuted {
            action_id: action_id.to_string(),
            case_id: case.case_id.to_string(),
            customer_id: case.customer_id.to_string(),
            step: step.code.clone(),
            receivable_ids: receivable_ids.iter().map(Uuid::to_string).collect(),
            days_overdue: u32::try_from(days).unwrap_or_default(),
            business_date: date.to_string(),
            detail: detail.clone(),
            policy_id: policy.id.clone(),
            policy_version: policy.version,
            channel: crate::api::channel_to_wire(step.channel) as i32,
            occurrence: n,
            amount: Some(wire::money(amount, &currency)),
            notice_id: notice
                .as_ref()
                .map(|n| n.id.to_string())
                .unwrap_or_default(),
            notice_sha256: notice
                .as_ref()
                .map(|n| hex::encode(&n.sha256))
                .unwrap_or_default(),
        };
        self.outbox
            .enqueue(
                tx,
                kit::events::DUNNING,
                &case.customer_id.to_string(),
                &event,
            )
            .await?;
        tracing::info!(case_id = %case.case_id, step = %step.code, n, days, "dunning step taken");

        if matches!(
            step.channel,
            Channel::PaymentOrderRequest | Channel::LitigationHandoff
        ) {
            store::ladder::escalate(tx, case.case_id, date, &receivable_ids).await?;
            let escalation = events::EscalatedToLegal {
                escalation_id: Uuid::now_v7().to_string(),
                case_id: case.case_id.to_string(),
                customer_id: case.customer_id.to_string(),
                amount_claimed: Some(wire::money(amount, &currency)),
                receivables: covered
                    .iter()
                    .map(|i| events::ClaimedReceivable {
                        receivable_id: i.receivable_id.to_string(),
                        contract_id: i.contract_id.to_string(),
                        contract_no: i.contract_no.clone(),
                        due_date: i.due_date.to_string(),
                        days_overdue: u32::try_from((date - i.due_date).num_days().max(0))
                            .unwrap_or_default(),
                        open_amount: Some(wire::money(i.open_amount, &i.currency)),
                    })
                    .collect(),
                business_date: date.to_string(),
                reason: format!(
                    "policy {}@{} step {} ({}): {amount_text} owed, {days} days overdue",
                    policy.id,
                    policy.version,
                    step.code,
                    step.channel.as_str()
                ),
            };
            self.outbox
                .enqueue(
                    tx,
                    kit::events::DUNNING,
                    &case.customer_id.to_string(),
                    &escalation,
                )
                .await?;
            tracing::info!(case_id = %case.case_id, "case escalated to legal");
        }
        Ok(())
    }
}

/// The hold reason while a promise is open (R-D5).
const PROMISE_HOLD: &str = "PROMISE_TO_PAY";
/// The hold reason while everything owed is in a repayment plan that is kept (R-D6).
const PLAN_HOLD: &str = "REPAYMENT_PLAN";

/// What judging a plan on a day came to.
enum PlanOutcome {
    /// Kept: its items stay out of the ladder.
    Kept,
    /// Completed: nothing more to do.
    Ended,
    /// Broken: the ladder goes on only above this severity (none: the paused step is not in
    /// the policy any more).
    Broken(Option<u32>),
}

impl Ladder {
    /// Judges an active repayment plan on `date` (R-D6). Completed: published. Broken: ended,
    /// published (contracts lets its items accrue again, scoring lowers the grade), the ladder
    /// escalates past the step it paused at, and the owner gets a call to make.
    async fn judge_plan(
        &self,
        tx: &mut PgConnection,
        date: NaiveDate,
        case: &store::ladder::Case,
        plan: &store::plans::PlanRow,
    ) -> anyhow::Result<PlanOutcome> {
        use crate::domain::plan::{self as rules, Verdict};
        let installments = store::plans::installments(tx, plan.id).await?;
        let payments = store::plans::payments(tx, plan.id).await?;
        let grace = u32::try_from(plan.grace_days).unwrap_or_default();
        let verdict = if store::plans::settled(tx, plan.id).await? {
            Verdict::Completed { on: date }
        } else {
            rules::judge(&installments, grace, &payments, date)
        };
        let cur = plan.currency.trim();
        let paid: Decimal = payments.iter().map(|(_, a)| *a).sum();
        match verdict {
            Verdict::Kept { .. } => Ok(PlanOutcome::Kept),
            Verdict::Completed { .. } => {
                crate::plans::completed(tx, &self.outbox, plan, paid, date).await?;
                Ok(PlanOutcome::Ended)
            }
            Verdict::Broken {
                installment,
                on,
                due,
                paid: paid_by,
            } => {
                let reason = format!(
                    "installment {installment} missed: {} {cur} due by {} (with {} grace days), {} {cur} paid",
                    wire::format_amount(due, cur),
                    on.pred_opt().unwrap_or(on),
                    plan.grace_days,
                    wire::format_amount(paid_by, cur),
                );
                store::plans::end(tx, plan.id, "broken", date, &reason).await?;
                // R-D6: escalate past the step the plan paused at (or the one in force).
                let floor = self
                    .policy
                    .steps
                    .iter()
                    .filter(|s| s.code == plan.paused_step || s.code == case.current_step)
                    .map(|s| s.severity)
                    .max();
                store::plans::escalate_above(
                    tx,
                    case.case_id,
                    floor.and_then(|f| i32::try_from(f).ok()),
                )
                .await?;
                let broken = events::RepaymentPlanBroken {
                    plan_id: plan.id.to_string(),
                    customer_id: plan.customer_id.to_string(),
                    case_id: case.case_id.to_string(),
                    receivable_ids: plan.receivable_ids.iter().map(Uuid::to_string).collect(),
                    installment,
                    due: Some(wire::money(due, cur)),
                    paid: Some(wire::money(paid_by, cur)),
                    broken_on: date.to_string(),
                };
                self.outbox
                    .enqueue(
                        tx,
                        kit::events::DUNNING,
                        &plan.customer_id.to_string(),
                        &broken,
                    )
                    .await?;
                let debtor = store::contacts::debtor(tx, case.customer_id).await?;
                let note = format!("repayment plan broken: {reason}; dunning escalates");
                let ask = TaskAsk {
                    channel: Channel::PhoneCall,
                    step: "broken_plan",
                    at: local_time(&debtor, date, Channel::PhoneCall),
                    note: &note,
                    notice_id: None,
                    action_id: plan.id,
                };
                self.task(tx, &debtor, Some(case.case_id), &ask).await?;
                tracing::info!(plan_id = %plan.id, installment, "repayment plan broken (R-D6)");
                Ok(PlanOutcome::Broken(floor))
            }
        }
    }
}

impl Ladder {
    /// Judges the debtor's open promise on `date` (R-D5); returns whether the ladder goes on
    /// (kept or broken) or holds (still open). A broken promise puts a call in the owner's
    /// tasks; either judgement is published for scoring.
    async fn judge_promise(
        &self,
        tx: &mut PgConnection,
        date: NaiveDate,
        case: &store::ladder::Case,
        promise: &store::promises::PromiseRow,
    ) -> anyhow::Result<bool> {
        let terms = crate::domain::promise::Terms {
            amount: promise.amount,
            due: promise.promised_date,
            grace_days: u32::try_from(promise.grace_days).unwrap_or_default(),
            threshold: promise.threshold,
        };
        let payments = store::promises::payments(tx, promise.id).await?;
        let kept = match crate::domain::promise::judge(&terms, &payments, date) {
            crate::domain::promise::Verdict::Open => return Ok(false),
            crate::domain::promise::Verdict::Kept { .. } => true,
            crate::domain::promise::Verdict::Broken { .. } => false,
        };
        store::promises::judged(tx, promise.id, kept, date).await?;
        let paid: Decimal = payments.iter().map(|(_, a)| *a).sum();
        let judged = events::PromiseJudged {
            promise_id: promise.id.to_string(),
            customer_id: case.customer_id.to_string(),
            case_id: case.case_id.to_string(),
            kept,
            amount: Some(wire::money(promise.amount, &promise.currency)),
            paid: Some(wire::money(paid, &promise.currency)),
            promised_date: promise.promised_date.to_string(),
            judged_on: date.to_string(),
        };
        self.outbox
            .enqueue(
                tx,
                kit::events::DUNNING,
                &case.customer_id.to_string(),
                &judged,
            )
            .await?;
        if !kept {
            // R-D5: into the owner's work: call the debtor about the broken promise.
            let debtor = store::contacts::debtor(tx, case.customer_id).await?;
            let note = format!(
                "promise broken: {} {cur} promised by {} (+{} days), {} {cur} paid; the ladder resumes at {}",
                wire::format_amount(promise.amount, &promise.currency),
                promise.promised_date,
                promise.grace_days,
                wire::format_amount(paid, &promise.currency),
                if promise.paused_step.is_empty() {
                    "its first step"
                } else {
                    &promise.paused_step
                },
                cur = promise.currency,
            );
            let ask = TaskAsk {
                channel: Channel::PhoneCall,
                step: "broken_promise",
                at: local_time(&debtor, date, Channel::PhoneCall),
                note: &note,
                notice_id: None,
                action_id: promise.id,
            };
            self.task(tx, &debtor, Some(case.case_id), &ask).await?;
        }
        tracing::info!(promise_id = %promise.id, kept, "promise judged (R-D5)");
        Ok(true)
    }
}

/// A task the ladder asks a collector to do.
struct TaskAsk<'a> {
    channel: Channel,
    step: &'a str,
    at: DateTime<Utc>,
    note: &'a str,
    notice_id: Option<Uuid>,
    action_id: Uuid,
}

impl Ladder {
    /// Creates the task at a conduct-checked time for the customer's owner (R-C9); returns
    /// the words for the action's detail.
    async fn task(
        &self,
        tx: &mut PgConnection,
        debtor: &Debtor,
        case_id: Option<Uuid>,
        ask: &TaskAsk<'_>,
    ) -> anyhow::Result<String> {
        let planned = match self
            .conduct
            .plan_for(tx, debtor, ask.channel, ask.at)
            .await?
        {
            Err(refused) => return Ok(format!("; no task: {refused}")),
            Ok(planned) => planned,
        };
        let assignee =
            kit::auth::owners::owner_of(tx, debtor.customer_id, kit::auth::owners::CUSTOMER_KEY)
                .await?
                .map(|(owner, _)| owner)
                .unwrap_or_default();
        let task = store::contacts::TaskRow {
            id: Uuid::now_v7(),
            customer_id: debtor.customer_id,
            case_id,
            channel: ask.channel.as_str().to_owned(),
            step: ask.step.to_owned(),
            requested_at: Utc::now(),
            due_at: planned.due_at,
            refused_for: planned.refused_for.map(|r| r.as_str().to_owned()),
            assignee,
            status: "open".to_owned(),
            outcome: None,
            completed_by: None,
            completed_at: None,
            note: ask.note.to_owned(),
            notice_id: ask.notice_id,
            contact_log_seq: None,
            created_by: "system".to_owned(),
        };
        store::contacts::insert_task(tx, &task, Some(&format!("action:{}", ask.action_id))).await?;
        Ok(format!(
            "; {} task{}",
            ask.channel.as_str(),
            scheduled_text(planned)
        ))
    }
}

/// The late-fee terms of the covered items as printed (R-D3): the contracts' terms' names,
/// or "as the contract provides" when contracts named none.
fn late_fee_terms(items: &[&OpenItem], en: bool) -> String {
    let mut names: Vec<&str> = items
        .iter()
        .map(|i| i.late_fee_terms.trim())
        .filter(|t| !t.is_empty())
        .collect();
    names.sort_unstable();
    names.dedup();
    match (names.is_empty(), en) {
        (true, false) => "按合同约定".to_owned(),
        (true, true) => "the rate in your contract".to_owned(),
        (false, false) => names.join("；"),
        (false, true) => names.join("; "),
    }
}

/// Channels whose step issues a written notice (R-D3): posted, mailed, by a lawyer, or
/// e-mailed as a PDF.
fn carries_notice(channel: Channel) -> bool {
    matches!(
        channel,
        Channel::DoorNotice | Channel::Letter | Channel::LawyerLetter | Channel::Email
    )
}

/// "What happens next" on a notice, by the next step's channel.
fn next_step_text(channel: Channel, en: bool) -> &'static str {
    match (channel, en) {
        (Channel::Sms | Channel::Email | Channel::AppMessage, false) => "继续发送催缴提醒",
        (Channel::Sms | Channel::Email | Channel::AppMessage, true) => "keep sending reminders",
        (Channel::PhoneCall, false) => "电话催收",
        (Channel::PhoneCall, true) => "call you",
        (Channel::Letter | Channel::DoorNotice, false) => "再次发出书面催缴通知",
        (Channel::Letter | Channel::DoorNotice, true) => "send a further written notice",
        (Channel::Visit, false) => "上门催收",
        (Channel::Visit, true) => "visit you",
        (Channel::LawyerLetter, false) => "委托律师发送律师函",
        (Channel::LawyerLetter, true) => "instruct a lawyer to write to you",
        (Channel::PaymentOrderRequest, false) => "向法院申请支付令",
        (Channel::PaymentOrderRequest, true) => "apply to the court for a payment order",
        (Channel::LitigationHandoff, false) => "依法提起诉讼",
        (Channel::LitigationHandoff, true) => "take legal action",
    }
}

/// The printed name of a charge type (its proto name as stored).
fn charge_name(charge_type: &str, en: bool) -> &'static str {
    match (charge_type, en) {
        ("CHARGE_TYPE_MANAGEMENT_FEE", false) => "物业管理费",
        ("CHARGE_TYPE_MANAGEMENT_FEE", true) => "Management fee",
        ("CHARGE_TYPE_MAINTENANCE_FUND", false) => "公共维修基金",
        ("CHARGE_TYPE_MAINTENANCE_FUND", true) => "Maintenance fund",
        ("CHARGE_TYPE_WATER", false) => "水费",
        ("CHARGE_TYPE_WATER", true) => "Water",
        ("CHARGE_TYPE_ELECTRICITY", false) => "电费",
        ("CHARGE_TYPE_ELECTRICITY", true) => "Electricity",
        ("CHARGE_TYPE_GAS", false) => "燃气费",
        ("CHARGE_TYPE_GAS", true) => "Gas",
        (_, false) => "房款/货款",
        (_, true) => "Purchase price",
    }
}

fn line(item: &OpenItem, en: bool) -> Line {
    Line {
        contract_no: item.contract_no.clone(),
        charge: charge_name(&item.charge_type, en).to_owned(),
        month: item.due_date,
        principal: item.principal,
        late_fee: item.late_fee,
        other: (item.open_amount - item.principal).max(Decimal::ZERO),
    }
}

/// One item for the SMS and task texts: "物业管理费2026年1月 1,200.00元" or
/// "Management fee 2026-01 1200.00".
fn item_text(charge_type: &str, due: NaiveDate, owed: Decimal, currency: &str, en: bool) -> String {
    if en {
        format!(
            "{} {}-{:02} {}",
            charge_name(charge_type, true),
            due.year(),
            due.month(),
            wire::format_amount(owed, currency)
        )
    } else {
        format!(
            "{}{}年{}月 {}元",
            charge_name(charge_type, false),
            due.year(),
            due.month(),
            wire::format_amount(owed, currency)
        )
    }
}

/// The items for the SMS and task texts, joined.
fn breakdown(items: &[&OpenItem], en: bool) -> String {
    items
        .iter()
        .map(|i| item_text(&i.charge_type, i.due_date, i.owed(), &i.currency, en))
        .collect::<Vec<_>>()
        .join(if en { ", " } else { "、" })
}

/// When the ladder's contact of `date` is asked for: 09:00 in the debtor's zone (visits in
/// the evening, 18:30, R-D7); the conduct check moves it if it is not allowed then.
fn local_time(debtor: &Debtor, date: NaiveDate, channel: Channel) -> DateTime<Utc> {
    let zone: Tz = debtor
        .time_zone
        .parse()
        .unwrap_or(chrono_tz::Asia::Shanghai);
    let time = if channel == Channel::Visit {
        NaiveTime::from_hms_opt(18, 30, 0)
    } else {
        NaiveTime::from_hms_opt(9, 0, 0)
    }
    .unwrap_or_default();
    zone.from_local_datetime(&date.and_time(time))
        .earliest()
        .map_or_else(|| date.and_time(time).and_utc(), |t| t.with_timezone(&Utc))
}

fn scheduled_text(planned: crate::outreach::Planned) -> String {
    match planned.refused_for {
        None => format!(" for {}", planned.due_at.to_rfc3339()),
        Some(reason) => format!(
            " moved to {} ({})",
            planned.due_at.to_rfc3339(),
            reason.as_str()
        ),
    }
}
