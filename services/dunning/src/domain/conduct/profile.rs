//! Conduct profiles (R-D13): one JSON document per jurisdiction, parsed and checked once.
//!
//! The file format is the serde model below; [`Profile::from_json`] checks it and names the
//! offending field in every error. Two profiles ship with the crate (`profiles/*.json`).

use std::collections::BTreeMap;

use chrono::NaiveTime;
use serde::Deserialize;

use super::{Channel, ConductError};

/// The only profile format version this build reads.
pub const FORMAT_VERSION: u32 = 1;

/// The profiles compiled into the crate, by id.
const BUILTIN: &[(&str, &str)] = &[
    ("cn", include_str!("../../../profiles/cn.json")),
    ("us-regf", include_str!("../../../profiles/us-regf.json")),
];

/// Longest period (days) a rolling cap, a post-conversation pause or a pre-holiday shift may
/// span; anything longer is a typo, not a rule.
const MAX_PERIOD_DAYS: u32 = 366;

/// Whose contacts a frequency cap counts together.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CapScope {
    /// All contacts with the customer, whatever the debt (CN: harassment is per person).
    Customer,
    /// Contacts about one debt (US Reg F 1006.14: "a particular debt").
    Debt,
}

/// What a contact other than the debtor may receive (R-D9, R-D13). There is deliberately no
/// value that allows debt content to reach a third party.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ThirdPartyPolicy {
    /// Never contacted.
    Never,
    /// Only templates marked as a call-back request, which say nothing about the debt.
    CallBackRequestOnly,
}

/// Third-party rules of a profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ThirdParties {
    /// Contacts the debtor designated (emergency contact, family member they named).
    pub designated_contact: ThirdPartyPolicy,
    /// Anyone else.
    pub unrelated: ThirdPartyPolicy,
}

/// At most `max_attempts` contacts on `days` consecutive local calendar days, the day of the
/// attempt being the last (US Reg F 1006.14(b)(2)(i): 7 in 7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RollingCap {
    /// Attempts allowed in the period.
    pub max_attempts: u32,
    /// Length of the period in local calendar days.
    pub days: u32,
}

/// What applies to one channel. Every channel must be listed: whether letters are bound by the
/// contact window is a decision the profile states, not a default nobody saw.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChannelRule {
    /// Bound by the contact window (no contact outside it, R-D9). Calls, messages and visits
    /// are; posted letters usually are not (when they are read is not up to the sender).
    pub quiet_hours: bool,
    /// No contact on public holidays of the profile's calendar (R-D9).
    pub public_holidays: bool,
    /// At most this many attempts per local calendar day (CN: 6 on one contact method).
    #[serde(default)]
    pub per_day: Option<u32>,
    /// A cap over consecutive days (US Reg F: 7 calls in 7 days).
    #[serde(default)]
    pub rolling: Option<RollingCap>,
    /// No attempt for this many local calendar days after a conversation, its day being day 1
    /// (US Reg F 1006.14(b)(2)(ii): 7).
    #[serde(default)]
    pub after_conversation_days: Option<u32>,
}

/// R-D10: a reminder due fewer than `days` days before one of `holidays` is moved to the last
/// working day at least `days` days before the holiday's first day.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PreHolidayShift {
    /// Calendar days.
    pub days: u32,
    /// Holiday names as in the calendar data (English `name`), e.g. `"Spring Festival"`.
    pub holidays: Vec<String>,
}

/// The file as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ProfileFile {
    format: u32,
    id: String,
    description: String,
    #[serde(default)]
    sources: Vec<String>,
    contact_window: WindowFile,
    cap_scope: CapScope,
    #[serde(default)]
    calendar_region: Option<String>,
    #[serde(default)]
    pre_holiday_shift: Option<PreHolidayShift>,
    channels: BTreeMap<Channel, ChannelRule>,
    third_parties: ThirdParties,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct WindowFile {
    start: String,
    end: String,
}

/// A checked conduct profile (R-D13). Built only by [`Profile::from_json`] or
/// [`Profile::builtin`], so it always holds a usable rule set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Profile {
    pub(super) id: String,
    pub(super) description: String,
    pub(super) sources: Vec<String>,
    /// Permitted contact window, local time, `start..end` (end excluded).
    pub(super) window: (NaiveTime, NaiveTime),
    pub(super) cap_scope: CapScope,
    pub(super) calendar_region: Option<String>,
    pub(super) pre_holiday: Option<PreHolidayShift>,
    pub(super) channels: BTreeMap<Channel, ChannelRule>,
    pub(super) third_parties: ThirdParties,
}

impl Profile {
    /// Ids of the profiles shipped with the crate.
    pub const BUILTIN_IDS: [&'static str; 2] = ["cn", "us-regf"];

    /// A shipped profile: `"cn"` (mainland China default) or `"us-regf"` (US Regulation F).
    pub fn builtin(id: &str) -> Result<Profile, ConductError> {
        let (name, json) = BUILTIN
            .iter()
            .find(|(name, _)| *name == id)
            .ok_or_else(|| ConductError::UnknownProfile {
                id: id.to_string(),
                known: Profile::BUILTIN_IDS.join(", "),
            })?;
        Profile::from_json(&format!("embedded:profiles/{name}.json"), json)
    }

    /// Parses and checks a profile; `origin` names the file in errors.
    pub fn from_json(origin: &str, json: &str) -> Result<Profile, ConductError> {
        let file: ProfileFile =
            serde_json::from_str(json).map_err(|e| ConductError::ProfileSyntax {
                origin: origin.to_string(),
                message: e.to_string(),
            })?;
        let invalid = |field: &str, reason: String| ConductError::InvalidProfile {
            origin: origin.to_string(),
            field: field.to_string(),
            reason,
        };
        if file.format != FORMAT_VERSION {
            return Err(invalid(
                "format",
                format!(
                    "{} is not supported; this build reads {FORMAT_VERSION}",
                    file.format
                ),
            ));
        }
        if file.id.trim().is_empty() {
            return Err(invalid("id", "must not be empty".into()));
        }
        let start = parse_time(&file.contact_window.start).ok_or_else(|| {
            invalid(
                "contact_window.start",
                not_a_time(&file.contact_window.start),
            )
        })?;
        let end = parse_time(&file.contact_window.end)
            .ok_or_else(|| invalid("contact_window.end", not_a_time(&file.contact_window.end)))?;
        if end <= start {
            return Err(invalid(
                "contact_window.end",
                format!("{end} must be after start {start} (a window within one local day)"),
            ));
        }
        for channel in Channel::ALL {
            let field = format!("channels.{}", channel.as_str());
            let Some(rule) = file.channels.get(&channel) else {
                return Err(invalid(
                    &field,
                    "missing: every channel must say whether quiet hours and public holidays apply"
                        .into(),
                ));
            };
            check_rule(rule, &field).map_err(|(f, reason)| invalid(&f, reason))?;
        }
        let region = file
            .calendar_region
            .map(|r| r.trim().to_ascii_uppercase())
            .filter(|r| !r.is_empty());
        let needs_calendar =
            file.pre_holiday_shift.is_some() || file.channels.values().any(|r| r.public_holidays);
        if needs_calendar && region.is_none() {
            return Err(invalid(
                "calendar_region",
                "required when a channel is holiday-free or a pre-holiday shift is set".into(),
            ));
        }
        if let Some(shift) = &file.pre_holiday_shift {
            if shift.days == 0 || shift.days > MAX_PERIOD_DAYS {
                return Err(invalid(
                    "pre_holiday_shift.days",
                    format!("{} is not between 1 and {MAX_PERIOD_DAYS}", shift.days),
                ));
            }
            if shift.holidays.is_empty() {
                return Err(invalid(
                    "pre_holiday_shift.holidays",
                    "must name at least one holiday".into(),
                ));
            }
            if let Some(i) = shift.holidays.iter().position(|h| h.trim().is_empty()) {
                return Err(invalid(
                    &format!("pre_holiday_shift.holidays[{i}]"),
                    "must not be empty".into(),
                ));
            }
        }
        Ok(Profile {
            id: file.id,
            description: file.description,
            sources: file.sources,
            window: (start, end),
            cap_scope: file.cap_scope,
            calendar_region: region,
            pre_holiday: file.pre_holiday_shift,
            channels: file.channels,
            third_parties: file.third_parties,
        })
    }

    /// The profile's id, e.g. `"cn"`.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// What the profile is and which rules it follows.
    pub fn description(&self) -> &str {
        &self.description
    }

    /// The texts the profile is taken from.
    pub fn sources(&self) -> &[String] {
        &self.sources
    }

    /// Permitted contact window in the debtor's local time, `start..end` (end excluded).
    pub fn contact_window(&self) -> (NaiveTime, NaiveTime) {
        self.window
    }

    /// The calendar region whose public holidays apply, if any rule uses holidays.
    pub fn calendar_region(&self) -> Option<&str> {
        self.calendar_region.as_deref()
    }

    /// The rule for a channel.
    pub fn channel(&self, channel: Channel) -> Result<&ChannelRule, ConductError> {
        // Every channel is checked present at load; the error is for completeness.
        self.channels
            .get(&channel)
            .ok_or_else(|| ConductError::InvalidProfile {
                origin: self.id.clone(),
                field: format!("channels.{}", channel.as_str()),
                reason: "missing".into(),
            })
    }

    /// Third-party rules.
    pub fn third_parties(&self) -> ThirdParties {
        self.third_parties
    }

    /// The R-D10 shift, if the profile has one.
    pub fn pre_holiday_shift(&self) -> Option<&PreHolidayShift> {
        self.pre_holiday.as_ref()
    }
}

fn check_rule(rule: &ChannelRule, field: &str) -> Result<(), (String, String)> {
    let positive = |value: u32, name: &str, max: u32| {
        if value == 0 || value > max {
            Err((
                format!("{field}.{name}"),
                format!("{value} is not between 1 and {max}"),
            ))
        } else {
            Ok(())
        }
    };
    if let Some(n) = rule.per_day {
        positive(n, "per_day", u32::from(u16::MAX))?;
    }
    if let Some(cap) = rule.rolling {
        positive(
            cap.max_attempts,
            "rolling.max_attempts",
            u32::from(u16::MAX),
        )?;
        positive(cap.days, "rolling.days", MAX_PERIOD_DAYS)?;
    }
    if let Some(days) = rule.after_conversation_days {
        positive(days, "after_conversation_days", MAX_PERIOD_DAYS)?;
    }
    Ok(())
}

fn parse_time(text: &str) -> Option<NaiveTime> {
    NaiveTime::parse_from_str(text.trim(), "%H:%M").ok()
}

fn not_a_time(text: &str) -> String {
    format!("{text:?} is not a local time of day as HH:MM")
}
