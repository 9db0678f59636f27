//! Conduct rules (R-D9, R-D10, R-D13) as pure logic: may this contact attempt happen now, and
//! if not, why and when is the earliest it may.
//!
//! The rules come from a jurisdiction's [`Profile`] (data, R-D13) and public holidays from the
//! money crate's business calendar. [`check`] answers [`Verdict::Allowed`] or
//! [`Verdict::Refused`] with a typed [`Reason`] and the earliest instant at which the same
//! attempt would be allowed, so a refused contact is rescheduled, never dropped (R-D13).
//! [`pre_holiday_date`] moves reminders ahead of traditional holidays (R-D10).
//!
//! Everything is computed in the debtor's local time (IANA zone, DST included); days are local
//! calendar days. Frequency caps count the given history on the attempt's channel for the
//! profile's scope (customer or debt), whoever was the recipient: stricter than counting per
//! person, never laxer.

mod pre_holiday;
mod profile;
#[cfg(test)]
mod tests;

use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, NaiveTime, TimeZone as _, Utc};
use chrono_tz::Tz;
use money::calendar::{Calendar, CalendarError, DayKind};
use serde::Deserialize;
use thiserror::Error;
use uuid::Uuid;

pub use pre_holiday::pre_holiday_date;
pub use profile::{
    CapScope, ChannelRule, FORMAT_VERSION, PreHolidayShift, Profile, RollingCap, ThirdParties,
    ThirdPartyPolicy,
};

/// How a contact is made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    /// Text message.
    Sms,
    /// E-mail.
    Email,
    /// Message in the customer app or a messenger.
    AppMessage,
    /// Telephone call (an attempt counts whether or not anyone answers).
    PhoneCall,
    /// Posted letter or written notice.
    Letter,
    /// Notice left at the door of the unit.
    DoorNotice,
    /// Visit in person.
    Visit,
    /// Lawyer's letter.
    LawyerLetter,
}

impl Channel {
    /// Every channel, in declaration order.
    pub const ALL: [Channel; 8] = [
        Channel::Sms,
        Channel::Email,
        Channel::AppMessage,
        Channel::PhoneCall,
        Channel::Letter,
        Channel::DoorNotice,
        Channel::Visit,
        Channel::LawyerLetter,
    ];

    /// The name used in profiles and the contact log.
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Sms => "sms",
            Channel::Email => "email",
            Channel::AppMessage => "app_message",
            Channel::PhoneCall => "phone_call",
            Channel::Letter => "letter",
            Channel::DoorNotice => "door_notice",
            Channel::Visit => "visit",
            Channel::LawyerLetter => "lawyer_letter",
        }
    }
}

/// Who receives the contact (R-D13).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recipient {
    /// The debtor.
    Debtor,
    /// Someone the debtor designated as a contact.
    DesignatedContact,
    /// Anyone else.
    Unrelated,
}

/// What the template may reveal (R-D9: never the debt to a third party).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Disclosure {
    /// Speaks of the debt: for the debtor only.
    DebtorOnly,
    /// Only asks the recipient to pass on a request to call back; says nothing of the debt.
    CallBackRequest,
}

/// A contact about to be made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    /// When it would be made.
    pub when: DateTime<Utc>,
    /// The debtor's time zone (R-D9: hours are the debtor's local time).
    pub time_zone: Tz,
    /// How.
    pub channel: Channel,
    /// To whom.
    pub recipient: Recipient,
    /// The template's disclosure class.
    pub disclosure: Disclosure,
    /// The debtor.
    pub customer_id: Uuid,
    /// The debt (contract) being collected; Reg F counts calls per debt.
    pub debt_id: Uuid,
}

/// How a past contact ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Made, nobody spoke with us (unanswered call, message sent).
    Attempted,
    /// A conversation took place (Reg F 1006.14(b)(2)(ii) pauses calls after one).
    Conversation,
}

/// A contact already made, from the contact log. History should hold contacts made before
/// the attempt; every entry is counted by its local calendar day, whatever its time of day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PastContact {
    /// When it was made.
    pub at: DateTime<Utc>,
    /// How.
    pub channel: Channel,
    /// The debtor.
    pub customer_id: Uuid,
    /// The debt.
    pub debt_id: Uuid,
    /// How it ended.
    pub outcome: Outcome,
}

/// Why a contact is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    /// Outside the permitted contact window, debtor's local time (R-D9).
    QuietHours,
    /// A frequency cap is reached (R-D9, R-D13).
    FrequencyCap,
    /// A public holiday of the profile's calendar (R-D9).
    Holiday,
    /// The debt would be disclosed to a third party, or the person may not be contacted (R-D9).
    ThirdPartyDisclosure,
}

impl Reason {
    /// The code stored in the contact log and shown to collectors.
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::QuietHours => "QUIET_HOURS",
            Reason::FrequencyCap => "FREQUENCY_CAP",
            Reason::Holiday => "HOLIDAY",
            Reason::ThirdPartyDisclosure => "THIRD_PARTY_DISCLOSURE",
        }
    }
}

/// The answer of [`check`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// The attempt may be made now.
    Allowed,
    /// The attempt may not be made now.
    Refused {
        /// The rule that refuses it at the asked time (the first of: third party, holiday,
        /// quiet hours, frequency cap).
        reason: Reason,
        /// The earliest instant at or after the asked time at which the same attempt, with the
        /// same history, is allowed: reschedule it there (R-D13: never silently dropped).
        /// `None` only for [`Reason::ThirdPartyDisclosure`]: no time makes it allowed, and the
        /// caller must pick another recipient or a call-back-request template.
        next_allowed: Option<DateTime<Utc>>,
    },
}

/// What prevents an answer.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ConductError {
    /// The profile file is not valid JSON of the profile format.
    #[error("conduct profile {origin}: {message}")]
    ProfileSyntax {
        /// The file.
        origin: String,
        /// The parser's message (with line and column).
        message: String,
    },
    /// A profile field holds a value that cannot be used.
    #[error("conduct profile {origin}: {field}: {reason}")]
    InvalidProfile {
        /// The file.
        origin: String,
        /// The field, as a path, e.g. `channels.sms.per_day`.
        field: String,
        /// What is wrong.
        reason: String,
    },
    /// No shipped profile has that id.
    #[error("unknown conduct profile {id:?}: shipped profiles are {known}")]
    UnknownProfile {
        /// The id asked for.
        id: String,
        /// The ids that exist.
        known: String,
    },
    /// The calendar given is not the profile's.
    #[error("conduct profile {profile} uses the {expected} calendar, not {given}")]
    CalendarMismatch {
        /// Profile id.
        profile: String,
        /// Its calendar region.
        expected: String,
        /// The region of the calendar given.
        given: String,
    },
    /// The calendar cannot answer (e.g. a year without holiday data).
    #[error(transparent)]
    Calendar(#[from] CalendarError),
    /// No allowed time was found within the search bound (an inconsistent profile/history).
    #[error("no allowed time for the contact found within {days} days after {from}")]
    NoAllowedTime {
        /// The instant asked about.
        from: DateTime<Utc>,
        /// How far the search went.
        days: i64,
    },
    /// Date arithmetic left chrono's range.
    #[error("date out of range near {0}")]
    OutOfRange(NaiveDate),
}

/// How far ahead [`check`] looks for an allowed time.
const SEARCH_DAYS: i64 = 3 * 366;

/// R-D9, R-D13: may `attempt` be made at `attempt.when`, given the contacts in `history`?
///
/// `calendar` supplies public holidays; it must be the profile's calendar region when the
/// profile has one, and is not consulted by a profile without holiday rules.
pub fn check(
    profile: &Profile,
    calendar: &Calendar,
    attempt: &Attempt,
    history: &[PastContact],
) -> Result<Verdict, ConductError> {
    ensure_calendar(profile, calendar)?;
    if !third_party_allowed(profile.third_parties(), attempt) {
        return Ok(Verdict::Refused {
            reason: Reason::ThirdPartyDisclosure,
            next_allowed: None,
        });
    }
    let rules = Rules::new(profile, calendar, attempt, history)?;
    let Some((reason, mut t)) = rules.first_failure(attempt.when)? else {
        return Ok(Verdict::Allowed);
    };
    // Each step jumps to the earliest instant at which the failing rule could pass; stopping
    // only where every rule passes gives the earliest allowed instant.
    let limit = attempt.when + Duration::days(SEARCH_DAYS);
    while t <= limit {
        match rules.first_failure(t)? {
            None => {
                return Ok(Verdict::Refused {
                    reason,
                    next_allowed: Some(t),
                });
            }
            // A guard against a zone whose local dates run backwards: always move on.
            Some((_, later)) => t = later.max(t + Duration::seconds(1)),
        }
    }
    Err(ConductError::NoAllowedTime {
        from: attempt.when,
        days: SEARCH_DAYS,
    })
}

/// The calendar must be the profile's when the profile names one.
fn ensure_calendar(profile: &Profile, calendar: &Calendar) -> Result<(), ConductError> {
    if let Some(expected) = profile.calendar_region()
        && !calendar.region().eq_ignore_ascii_case(expected)
    {
        return Err(ConductError::CalendarMismatch {
            profile: profile.id().to_string(),
            expected: expected.to_string(),
            given: calendar.region().to_string(),
        });
    }
    Ok(())
}

fn third_party_allowed(rules: ThirdParties, attempt: &Attempt) -> bool {
    let policy = match attempt.recipient {
        Recipient::Debtor => return true,
        Recipient::DesignatedContact => rules.designated_contact,
        Recipient::Unrelated => rules.unrelated,
    };
    match policy {
        ThirdPartyPolicy::Never => false,
        ThirdPartyPolicy::CallBackRequestOnly => attempt.disclosure == Disclosure::CallBackRequest,
    }
}

/// One attempt's time-dependent rules, with its relevant history in local days.
struct Rules<'a> {
    rule: ChannelRule,
    window: (NaiveTime, NaiveTime),
    calendar: Option<&'a Calendar>,
    tz: Tz,
    /// Local days of the relevant past contacts, and whether each was a conversation.
    days: Vec<(NaiveDate, bool)>,
}

impl<'a> Rules<'a> {
    fn new(
        profile: &Profile,
        calendar: &'a Calendar,
        attempt: &Attempt,
        history: &[PastContact],
    ) -> Result<Rules<'a>, ConductError> {
        let scope = profile.cap_scope;
        let days = history
            .iter()
            .filter(|c| c.channel == attempt.channel)
            .filter(|c| match scope {
                CapScope::Customer => c.customer_id == attempt.customer_id,
                CapScope::Debt => c.debt_id == attempt.debt_id,
            })
            .map(|c| {
                let day = c.at.with_timezone(&attempt.time_zone).date_naive();
                (day, c.outcome == Outcome::Conversation)
            })
            .collect();
        Ok(Rules {
            rule: *profile.channel(attempt.channel)?,
            window: profile.window,
            calendar: profile.calendar_region().map(|_| calendar),
            tz: attempt.time_zone,
            days,
        })
    }

    /// The first rule that refuses a contact at `t`, with the earliest instant after `t` at
    /// which that rule alone could pass.
    fn first_failure(
        &self,
        t: DateTime<Utc>,
    ) -> Result<Option<(Reason, DateTime<Utc>)>, ConductError> {
        let local = t.with_timezone(&self.tz).naive_local();
        let day = local.date();
        let tomorrow =
            || -> Result<DateTime<Utc>, ConductError> { start_of_day(self.tz, next_day(day)?) };
        // R-D9: no contact on a public holiday (unless the profile says otherwise).
        if self.rule.public_holidays
            && let Some(calendar) = self.calendar
            && matches!(calendar.day(day)?.kind, DayKind::Holiday { .. })
        {
            return Ok(Some((Reason::Holiday, tomorrow()?)));
        }
        // R-D9: only inside the permitted window, local time.
        let (start, end) = self.window;
        if self.rule.quiet_hours && !(start..end).contains(&local.time()) {
            let next = if local.time() < start {
                at_local(self.tz, day.and_time(start))?
            } else {
                at_local(self.tz, next_day(day)?.and_time(start))?
            };
            return Ok(Some((Reason::QuietHours, next)));
        }
        // R-D13 (CN): at most N attempts a local day on one channel.
        if let Some(max) = self.rule.per_day
            && self.count(day, day) >= max
        {
            return Ok(Some((Reason::FrequencyCap, tomorrow()?)));
        }
        // R-D13 (US Reg F 1006.14(b)(2)(i)): at most N in `days` consecutive days.
        if let Some(cap) = self.rule.rolling
            && self.count(back(day, cap.days)?, day) >= cap.max_attempts
        {
            return Ok(Some((Reason::FrequencyCap, tomorrow()?)));
        }
        // R-D13 (US Reg F 1006.14(b)(2)(ii)): none within N days after a conversation, its
        // day being day 1.
        if let Some(pause) = self.rule.after_conversation_days {
            let from = back(day, pause)?;
            let last = self
                .days
                .iter()
                .filter(|(d, talked)| *talked && (from..=day).contains(d))
                .map(|(d, _)| *d)
                .max();
            if let Some(talked_on) = last {
                let resume = talked_on
                    .checked_add_signed(Duration::days(i64::from(pause)))
                    .ok_or(ConductError::OutOfRange(talked_on))?;
                return Ok(Some((Reason::FrequencyCap, start_of_day(self.tz, resume)?)));
            }
        }
        Ok(None)
    }

    /// Relevant contacts on local days `from..=to`.
    fn count(&self, from: NaiveDate, to: NaiveDate) -> u32 {
        let n = self
            .days
            .iter()
            .filter(|(d, _)| (from..=to).contains(d))
            .count();
        u32::try_from(n).unwrap_or(u32::MAX)
    }
}

/// The first day of a period of `days` days ending with `day`.
fn back(day: NaiveDate, days: u32) -> Result<NaiveDate, ConductError> {
    day.checked_sub_signed(Duration::days(i64::from(days) - 1))
        .ok_or(ConductError::OutOfRange(day))
}

fn next_day(day: NaiveDate) -> Result<NaiveDate, ConductError> {
    day.succ_opt().ok_or(ConductError::OutOfRange(day))
}

fn start_of_day(tz: Tz, day: NaiveDate) -> Result<DateTime<Utc>, ConductError> {
    at_local(tz, day.and_time(NaiveTime::MIN))
}

/// The earliest instant whose local time in `tz` is `local` or, when `local` falls in a DST
/// gap, the end of the gap.
fn at_local(tz: Tz, local: NaiveDateTime) -> Result<DateTime<Utc>, ConductError> {
    let mut probe = local;
    // A gap is at most a few hours; a day of minutes is a generous bound.
    for _ in 0..=24 * 60 {
        if let Some(t) = tz.from_local_datetime(&probe).earliest() {
            return Ok(t.with_timezone(&Utc));
        }
        probe = probe
            .checked_add_signed(Duration::minutes(1))
            .ok_or(ConductError::OutOfRange(local.date()))?;
    }
    Err(ConductError::OutOfRange(local.date()))
}
