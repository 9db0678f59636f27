//! A bank line seen again (R-P2, R-P5): when the same transaction (same fingerprint) arrives
//! a second time, is it the same payment reported twice by design, or a repeat a person must
//! look at?
//!
//! The rule:
//! - an intraday report (MT942, camt.052) or a notification (camt.054) and the end-of-day
//!   statement (MT940, camt.053, a bank CSV export) of the **same receiving account** report
//!   the same booked payments by design, in either order; so do successive intraday reports
//!   (they are cumulative through the day). Such a repeat is **linked** silently to the first
//!   sighting: recorded, never booked twice, no work for anyone;
//! - any other repeat from a **different file** (two end-of-day statements, two CSV exports,
//!   a CSV and a statement, another receiving account) is a **duplicate**: it becomes a
//!   `DUPLICATE` exception for a person, held (never allocated) until they decide;
//! - a repeat within the same file (two statements of one file) is linked: occurrence numbers
//!   already keep identical lines of one statement apart.
//!
//! The earlier sighting compared with is the most final one: a line first seen intraday and
//! then confirmed by an end-of-day statement counts as seen on that statement, so a second
//! end-of-day statement with it is a duplicate.

/// What kind of report a line came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LineSource {
    /// End-of-day statement: MT940, camt.053, BAI2, bank CSV exports.
    Statement,
    /// Intraday report: MT942, camt.052.
    Intraday,
    /// Debit/credit notification: camt.054.
    Notification,
    /// The platform's simple CSV layout.
    SimpleCsv,
    /// A wallet's or card acquirer's settlement report (its lines are customer payments).
    Settlement,
}

impl LineSource {
    /// The value stored in `bank_lines.source`.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            LineSource::Statement => "statement",
            LineSource::Intraday => "intraday",
            LineSource::Notification => "notification",
            LineSource::SimpleCsv => "csv",
            LineSource::Settlement => "settlement",
        }
    }

    /// From the stored value; an unknown one is treated as a statement (the strictest).
    pub(crate) fn parse(s: &str) -> Self {
        match s {
            "intraday" => LineSource::Intraday,
            "notification" => LineSource::Notification,
            "csv" => LineSource::SimpleCsv,
            "settlement" => LineSource::Settlement,
            _ => LineSource::Statement,
        }
    }

    fn is_preliminary(self) -> bool {
        matches!(self, LineSource::Intraday | LineSource::Notification)
    }
}

/// One sighting of a line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Sighting<'a> {
    pub(crate) file_id: uuid::Uuid,
    /// The receiving account's blind index (R-O4; equal accounts, equal indexes), or in
    /// tests the account itself.
    pub(crate) receiving_account: &'a str,
    pub(crate) source: LineSource,
}

/// What to do with a line seen before.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Repeat {
    /// The same payment reported again by design: link it to the first, book nothing.
    Linked,
    /// A repeat a person must decide: a `DUPLICATE` exception, nothing allocated.
    Duplicate,
}

impl Repeat {
    /// The value stored in `bank_line_repeats.outcome`.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Repeat::Linked => "linked",
            Repeat::Duplicate => "duplicate",
        }
    }
}

/// Decides a repeat of `earlier` by `now` (see the module documentation).
pub(crate) fn classify(earlier: &Sighting<'_>, now: &Sighting<'_>) -> Repeat {
    if earlier.file_id == now.file_id {
        return Repeat::Linked;
    }
    let same_account = normalise(earlier.receiving_account) == normalise(now.receiving_account);
    let by_design = earlier.source.is_preliminary()
        && matches!(now.source, LineSource::Statement | LineSource::Intraday)
        || now.source.is_preliminary() && earlier.source == LineSource::Statement;
    if same_account && by_design {
        Repeat::Linked
    } else {
        Repeat::Duplicate
    }
}

/// Accounts compare without spaces and case (`NL81 ASNB …` is `nl81asnb…`).
fn normalise(account: &str) -> String {
    account
        .chars()
        .filter(|c| !c.is_whitespace())
        .flat_map(char::to_lowercase)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use LineSource::*;

    fn sighting(file: u128, account: &str, source: LineSource) -> Sighting<'_> {
        Sighting {
            file_id: uuid::Uuid::from_u128(file),
            receiving_account: account,
            source,
        }
    }

    #[test]
    fn intraday_then_end_of_day_of_one_account_is_linked_r_p2() {
        for (a, b) in [
            (Intraday, Statement),
            (Statement, Intraday),
            (Notification, Statement),
            (Statement, Notification),
            (Intraday, Intraday),
        ] {
            assert_eq!(
                classify(
                    &sighting(1, "NL81 ASNB 01", a),
                    &sighting(2, "nl81asnb01", b)
                ),
                Repeat::Linked,
                "{a:?} then {b:?}"
            );
        }
    }

    #[test]
    fn any_other_repeat_across_files_is_a_duplicate_for_a_person_r_p5() {
        for (a, b) in [
            (Statement, Statement),
            (SimpleCsv, SimpleCsv),
            (SimpleCsv, Statement),
            (Statement, SimpleCsv),
            (Intraday, SimpleCsv),
            (Notification, Notification),
        ] {
            assert_eq!(
                classify(&sighting(1, "6222 01", a), &sighting(2, "6222 01", b)),
                Repeat::Duplicate,
                "{a:?} then {b:?}"
            );
        }
        // Another receiving account: never the same report.
        assert_eq!(
            classify(
                &sighting(1, "A-1", Intraday),
                &sighting(2, "A-2", Statement)
            ),
            Repeat::Duplicate
        );
    }

    #[test]
    fn a_repeat_within_one_file_is_linked() {
        assert_eq!(
            classify(&sighting(1, "A", Statement), &sighting(1, "A", Statement)),
            Repeat::Linked
        );
    }

    #[test]
    fn sources_round_trip() {
        for s in [Statement, Intraday, Notification, SimpleCsv] {
            assert_eq!(LineSource::parse(s.as_str()), s);
        }
    }
}
