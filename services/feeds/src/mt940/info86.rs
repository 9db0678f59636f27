//! Field `:86:` (information to account owner) and its common bank dialects:
//!
//! * German DK/ZKA structure `GVC?00posting text?10prima nota?20…?29 purpose?30 bank?31
//!   account?32…?33 name?34…?60…?63` (any separator, e.g. Triodos uses `>`), with the SEPA
//!   keywords `EREF+ KREF+ MREF+ CRED+ DEBT+ SVWZ+ ABWA+ ABWE+ IBAN+ BIC+ COAM+ OAMT+`
//!   inside the purpose; subfields wrap across lines at any character.
//! * SWIFT/Dutch code words `/EREF/…/NAME/…/REMI/…/IBAN/…` (ING, Rabobank, ABN AMRO SEPA).
//! * mBank (Poland) `…; Z RACH.: …; OD: …; TYT.: …; TNR: …`.
//! * Anything else is free text: the remittance information is the text itself.

use std::borrow::Cow;

/// What `:86:` says about a transaction, per dialect.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Info {
    /// Remittance information (SEPA `SVWZ+`, `/REMI/`, mBank `TYT.:`, or the free text).
    pub remittance: Option<String>,
    /// Counterparty name (`?32`+`?33`, `/NAME/`, `OD:`).
    pub counterparty_name: Option<String>,
    /// Counterparty account (`?31`, `/IBAN/`, `Z RACH.:`).
    pub counterparty_account: Option<String>,
    /// Counterparty bank (`?30`, `/BIC/`).
    pub counterparty_bank: Option<String>,
    /// End-to-end id (`EREF+`, `/EREF/`).
    pub end_to_end_id: Option<String>,
    /// Structured creditor reference (`/REMI/…/CDTRREF/`).
    pub payment_reference: Option<String>,
    /// Other subfields by name (`gvc`, `posting_text`, `prima_nota`, `mandate_reference`…).
    pub extra: Vec<(Cow<'static, str>, String)>,
}

fn set(slot: &mut Option<String>, value: &str) {
    let v = value.trim();
    if slot.is_none() && !v.is_empty() {
        *slot = Some(v.to_string());
    }
}

fn push(
    extra: &mut Vec<(Cow<'static, str>, String)>,
    key: impl Into<Cow<'static, str>>,
    value: &str,
) {
    let v = value.trim();
    if !v.is_empty() {
        extra.push((key.into(), v.to_string()));
    }
}

/// Interpret the decoded `:86:` text (lines separated by `\n`).
pub(crate) fn parse(text: &str) -> Info {
    let joined: Cow<'_, str> = if text.contains('\n') {
        Cow::Owned(text.split('\n').collect())
    } else {
        Cow::Borrowed(text)
    };
    let joined = joined.as_ref();
    if let Some(info) = german(joined) {
        return info;
    }
    if let Some(info) = swift_codes(joined) {
        return info;
    }
    if let Some(info) = mbank(joined) {
        return info;
    }
    Info {
        remittance: crate::text::non_empty(text),
        ..Info::default()
    }
}

/// `GVC` + separator + two-digit subfields.
fn german(joined: &str) -> Option<Info> {
    // Some banks put a blank before the GVC (`:86: 020?00…`).
    let joined = joined.trim_start();
    let b = joined.as_bytes();
    let gvc = joined.get(..3)?;
    if !gvc.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let mut info = Info {
        extra: Vec::with_capacity(10),
        ..Info::default()
    };
    push(&mut info.extra, "gvc", gvc);
    if b.len() == 3 {
        return Some(info);
    }
    let sep = *b.get(3)?;
    let starts_subfield = |i: usize| {
        b.get(i) == Some(&sep)
            && b.get(i + 1).is_some_and(u8::is_ascii_digit)
            && b.get(i + 2).is_some_and(u8::is_ascii_digit)
    };
    if sep.is_ascii_alphanumeric() || sep == b' ' || !starts_subfield(3) {
        return None;
    }
    let mut marks: Vec<usize> = (3..b.len()).filter(|&i| starts_subfield(i)).collect();
    marks.push(b.len());
    let mut purpose = String::new();
    // Where each purpose subfield starts: a keyword may begin right there.
    let mut starts = Vec::new();
    let mut name = String::new();
    // ?20–?29 and ?60–?63 as written, for audit (the remittance is cut from both).
    let mut main_purpose = String::new();
    let mut more_purpose = String::new();
    let mut seventies = String::new();
    for w in marks.windows(2) {
        let &[from, to] = w else { continue };
        let code = joined.get(from + 1..from + 3).unwrap_or_default();
        let value = joined.get(from + 3..to).unwrap_or_default();
        match code {
            "00" => push(&mut info.extra, "posting_text", value),
            "10" => push(&mut info.extra, "prima_nota", value),
            "20" | "21" | "22" | "23" | "24" | "25" | "26" | "27" | "28" | "29" => {
                starts.push(purpose.len());
                purpose.push_str(value);
                main_purpose.push_str(value);
            }
            "60" | "61" | "62" | "63" => {
                starts.push(purpose.len());
                purpose.push_str(value);
                more_purpose.push_str(value);
            }
            "30" => set(&mut info.counterparty_bank, value),
            "31" => set(&mut info.counterparty_account, value),
            "32" | "33" => name.push_str(value),
            "34" => push(&mut info.extra, "text_key_extension", value),
            // Non-standard ?70–?79 (seen as a second name/purpose block) form one text.
            c if c.starts_with('7') => seventies.push_str(value),
            _ => push(&mut info.extra, format!("subfield_{code}"), value),
        }
    }
    set(&mut info.counterparty_name, &name);
    push(&mut info.extra, "subfield_70", &seventies);
    // The purpose exactly as written (not trimmed), for audit.
    for (key, text) in [
        ("purpose", main_purpose),
        ("purpose_continued", more_purpose),
    ] {
        if !text.trim().is_empty() {
            info.extra.push((key.into(), text));
        }
    }
    sepa_keywords(&purpose, &starts, &mut info);
    Some(info)
}

const SEPA_KEYS: &[&str] = &[
    "EREF", "KREF", "MREF", "CRED", "DEBT", "SVWZ", "ABWA", "ABWE", "IBAN", "BIC", "COAM", "OAMT",
    "PURP",
];

/// Split a German purpose text at `KEY+` markers.
fn sepa_keywords(purpose: &str, starts: &[usize], info: &mut Info) {
    let b = purpose.as_bytes();
    let mut marks: Vec<(usize, &str)> = Vec::new();
    // Scan bytes: a key starts with an ASCII capital and ends in `+`; it counts at the start
    // of a subfield or after a character that is not a letter or digit.
    for (i, &c) in b.iter().enumerate() {
        if !matches!(
            c,
            b'A' | b'B' | b'C' | b'D' | b'E' | b'I' | b'K' | b'M' | b'O' | b'P' | b'S'
        ) {
            continue;
        }
        let before_ok = i == 0
            || starts.contains(&i)
            || b.get(i - 1)
                .is_some_and(|p| p.is_ascii() && !p.is_ascii_alphanumeric());
        if !before_ok {
            continue;
        }
        let rest = b.get(i..).unwrap_or_default();
        if let Some(key) = SEPA_KEYS
            .iter()
            .find(|k| rest.starts_with(k.as_bytes()) && rest.get(k.len()) == Some(&b'+'))
        {
            marks.push((i, key));
        }
    }
    if marks.is_empty() {
        set(&mut info.remittance, purpose);
        return;
    }
    let mut svwz = None;
    for (n, (pos, key)) in marks.iter().enumerate() {
        let end = marks.get(n + 1).map_or(purpose.len(), |m| m.0);
        let value = purpose
            .get(pos + key.len() + 1..end)
            .unwrap_or_default()
            .trim();
        match *key {
            "EREF" => set(&mut info.end_to_end_id, value),
            "SVWZ" => svwz = Some(value.to_string()),
            "IBAN" => set(&mut info.counterparty_account, value),
            "BIC" => set(&mut info.counterparty_bank, value),
            "KREF" => push(&mut info.extra, "customer_reference_sepa", value),
            "MREF" => push(&mut info.extra, "mandate_reference", value),
            "CRED" => push(&mut info.extra, "creditor_id", value),
            "DEBT" => push(&mut info.extra, "debtor_id", value),
            "ABWA" => push(&mut info.extra, "ultimate_debtor", value),
            "ABWE" => push(&mut info.extra, "ultimate_creditor", value),
            "COAM" => push(&mut info.extra, "compensation_amount", value),
            "OAMT" => push(&mut info.extra, "original_amount", value),
            _ => push(&mut info.extra, "purpose_code", value),
        }
    }
    let prefix = purpose
        .get(..marks.first().map_or(0, |m| m.0))
        .unwrap_or_default();
    push(&mut info.extra, "purpose_prefix", prefix);
    match svwz {
        Some(text) => set(&mut info.remittance, &text),
        None => set(&mut info.remittance, purpose),
    }
}

/// Code words that start a subfield in the SWIFT/Dutch structure.
const SWIFT_CODES: &[&str] = &[
    "ACCW", "ADDR", "BENM", "BIC", "BUSP", "CHGS", "CNTP", "CSID", "EREF", "EXCH", "IBAN", "IREF",
    "ISDT", "MARF", "NAME", "NRTX", "OCMT", "ORDP", "PREF", "PURP", "PT", "PY", "REMI", "RTRN",
    "SVCL", "TRCD", "TRTP", "ULTB", "ULTD",
];

fn swift_codes(joined: &str) -> Option<Info> {
    let starts = |i: usize| -> Option<&'static str> {
        let rest = joined.get(i..)?.strip_prefix('/')?;
        SWIFT_CODES
            .iter()
            .copied()
            .find(|c| rest.starts_with(c) && rest.get(c.len()..c.len() + 1) == Some("/"))
    };
    starts(0)?;
    let mut marks: Vec<(usize, &str)> = joined
        .char_indices()
        .filter(|(_, c)| *c == '/')
        .filter_map(|(i, _)| starts(i).map(|c| (i, c)))
        .collect();
    // "/BENM//NAME/": the `/` closing BENM is also the one opening NAME; keep both marks.
    marks.dedup_by_key(|m| m.0);
    let mut info = Info::default();
    for (n, (pos, code)) in marks.iter().enumerate() {
        let end = marks.get(n + 1).map_or(joined.len(), |m| m.0);
        let from = (pos + code.len() + 2).min(end);
        let value = joined.get(from..end).unwrap_or_default();
        match *code {
            "EREF" => set(&mut info.end_to_end_id, value),
            "NAME" => set(&mut info.counterparty_name, value),
            "IBAN" => set(&mut info.counterparty_account, value),
            "BIC" => set(&mut info.counterparty_bank, value),
            "REMI" => remittance_code(value, &mut info),
            "CNTP" => {
                let mut parts = value.split('/');
                set(
                    &mut info.counterparty_account,
                    parts.next().unwrap_or_default(),
                );
                set(
                    &mut info.counterparty_bank,
                    parts.next().unwrap_or_default(),
                );
                set(
                    &mut info.counterparty_name,
                    parts.next().unwrap_or_default(),
                );
            }
            "MARF" => push(&mut info.extra, "mandate_reference", value),
            "CSID" => push(&mut info.extra, "creditor_id", value),
            other => push(
                &mut info.extra,
                other.to_ascii_lowercase(),
                value.trim_matches('/'),
            ),
        }
    }
    if info.remittance.is_none() {
        set(&mut info.remittance, joined);
    }
    Some(info)
}

/// `/REMI/` value: `USTD//free text/`, `STRD/CUR/…/CDTRREF/RF…`, or plain text.
fn remittance_code(value: &str, info: &mut Info) {
    let v = value.trim_end_matches('/');
    if let Some(text) = v.strip_prefix("USTD//") {
        set(&mut info.remittance, text);
    } else if let Some(i) = v.find("CDTRREF/") {
        let reference = v.get(i + 8..).unwrap_or_default();
        set(
            &mut info.payment_reference,
            reference.split('/').next().unwrap_or_default(),
        );
        set(&mut info.remittance, reference);
    } else {
        set(&mut info.remittance, v);
    }
}

/// mBank: `911 TRANSAKCJA …; Z RACH.: …; OD: …; TYT.: …; TNR: …`.
fn mbank(joined: &str) -> Option<Info> {
    if !joined.contains("TYT.:") {
        return None;
    }
    let mut info = Info::default();
    for (n, part) in joined.split(';').enumerate() {
        let part = part.trim();
        let Some((key, value)) = part.split_once(':') else {
            if n == 0 {
                push(&mut info.extra, "posting_text", part);
            }
            continue;
        };
        match key.trim() {
            "Z RACH." | "NA RACH." => set(&mut info.counterparty_account, value),
            "OD" | "DLA" => set(&mut info.counterparty_name, value),
            "TYT." => set(&mut info.remittance, value),
            "TNR" => push(&mut info.extra, "transaction_number", value),
            k if n == 0 => {
                push(&mut info.extra, "posting_text", k);
                push(&mut info.extra, k.to_lowercase(), value);
            }
            k => push(&mut info.extra, k.to_lowercase(), value),
        }
    }
    Some(info)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn german_structure_with_wrapped_subfields() {
        let text = "166?00GUTSCHRIFT?100399?20EREF+EndToEndId TFNR 22 004?21 00001?22\nSVWZ+Verw CTSc-01 BC-PPP TF?23Nr 22 004?30DRESDEFF508?31DE1450880\n0500194785000?32KARL?33        KAUFMANN?70Empfaenger Marta Metzge\nr";
        let i = parse(text);
        assert_eq!(
            i.end_to_end_id.as_deref(),
            Some("EndToEndId TFNR 22 004 00001")
        );
        assert_eq!(
            i.remittance.as_deref(),
            Some("Verw CTSc-01 BC-PPP TFNr 22 004")
        );
        assert_eq!(
            i.counterparty_account.as_deref(),
            Some("DE14508800500194785000")
        );
        assert_eq!(i.counterparty_bank.as_deref(), Some("DRESDEFF508"));
        assert_eq!(i.counterparty_name.as_deref(), Some("KARL        KAUFMANN"));
        assert!(i.extra.contains(&("gvc".into(), "166".into())));
        assert!(
            i.extra
                .contains(&("subfield_70".into(), "Empfaenger Marta Metzger".into()))
        );
    }

    #[test]
    fn separator_at_line_end() {
        let i = parse("109?00SEPA?20EREF+A1 SVWZ+?\n25SONSTIGE GRUENDE?32TESTER");
        assert_eq!(i.remittance.as_deref(), Some("SONSTIGE GRUENDE"));
        assert_eq!(i.end_to_end_id.as_deref(), Some("A1"));
    }

    #[test]
    fn dutch_code_words() {
        let i = parse(
            "/EREF/01-01-2013 12:00 0030000987654321/BENM//NAME/CONTRA ACCOUN\nT HOLDER/REMI//ISDT/2013-07-11",
        );
        assert_eq!(
            i.end_to_end_id.as_deref(),
            Some("01-01-2013 12:00 0030000987654321")
        );
        assert_eq!(
            i.counterparty_name.as_deref(),
            Some("CONTRA ACCOUNT HOLDER")
        );
        let i = parse("/BENM//NAME/JOHN DOE/REMI/Reference 201301234/ISDT/2013-01-02");
        assert_eq!(i.remittance.as_deref(), Some("Reference 201301234"));
    }

    #[test]
    fn mbank_fields() {
        let i = parse(
            "911 TRANSAKCJA COLLECT; ID IPH: XX01; Z RACH.: \n5611401081; OD: JAN NOWAK  \nUL. NIJAKA 1; TYT.: PRZELEW   ; \nTNR: 1791.01",
        );
        assert_eq!(i.counterparty_account.as_deref(), Some("5611401081"));
        assert_eq!(
            i.counterparty_name.as_deref(),
            Some("JAN NOWAK  UL. NIJAKA 1")
        );
        assert_eq!(i.remittance.as_deref(), Some("PRZELEW"));
    }

    #[test]
    fn free_text() {
        let i = parse("BEA   NR:XXX1234   21.05.11/12.54 DIRCKIII");
        assert_eq!(
            i.remittance.as_deref(),
            Some("BEA   NR:XXX1234   21.05.11/12.54 DIRCKIII")
        );
    }
}
