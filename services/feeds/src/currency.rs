//! ISO 4217 currency codes and their minor units ("currency known", issue item 3).

/// Active ISO 4217 codes with their number of minor units (decimal places).
#[rustfmt::skip]
const ACTIVE: &[(&str, u8)] = &[
    ("AED", 2), ("AFN", 2), ("ALL", 2), ("AMD", 2), ("ANG", 2), ("AOA", 2), ("ARS", 2),
    ("AUD", 2), ("AWG", 2), ("AZN", 2), ("BAM", 2), ("BBD", 2), ("BDT", 2), ("BGN", 2),
    ("BHD", 3), ("BIF", 0), ("BMD", 2), ("BND", 2), ("BOB", 2), ("BOV", 2), ("BRL", 2),
    ("BSD", 2), ("BTN", 2), ("BWP", 2), ("BYN", 2), ("BZD", 2), ("CAD", 2), ("CDF", 2),
    ("CHE", 2), ("CHF", 2), ("CHW", 2), ("CLF", 4), ("CLP", 0), ("CNY", 2), ("COP", 2),
    ("COU", 2), ("CRC", 2), ("CUC", 2), ("CUP", 2), ("CVE", 2), ("CZK", 2), ("DJF", 0),
    ("DKK", 2), ("DOP", 2), ("DZD", 2), ("EGP", 2), ("ERN", 2), ("ETB", 2), ("EUR", 2),
    ("FJD", 2), ("FKP", 2), ("GBP", 2), ("GEL", 2), ("GHS", 2), ("GIP", 2), ("GMD", 2),
    ("GNF", 0), ("GTQ", 2), ("GYD", 2), ("HKD", 2), ("HNL", 2), ("HTG", 2), ("HUF", 2),
    ("IDR", 2), ("ILS", 2), ("INR", 2), ("IQD", 3), ("IRR", 2), ("ISK", 0), ("JMD", 2),
    ("JOD", 3), ("JPY", 0), ("KES", 2), ("KGS", 2), ("KHR", 2), ("KMF", 0), ("KPW", 2),
    ("KRW", 0), ("KWD", 3), ("KYD", 2), ("KZT", 2), ("LAK", 2), ("LBP", 2), ("LKR", 2),
    ("LRD", 2), ("LSL", 2), ("LYD", 3), ("MAD", 2), ("MDL", 2), ("MGA", 2), ("MKD", 2),
    ("MMK", 2), ("MNT", 2), ("MOP", 2), ("MRU", 2), ("MUR", 2), ("MVR", 2), ("MWK", 2),
    ("MXN", 2), ("MXV", 2), ("MYR", 2), ("MZN", 2), ("NAD", 2), ("NGN", 2), ("NIO", 2),
    ("NOK", 2), ("NPR", 2), ("NZD", 2), ("OMR", 3), ("PAB", 2), ("PEN", 2), ("PGK", 2),
    ("PHP", 2), ("PKR", 2), ("PLN", 2), ("PYG", 0), ("QAR", 2), ("RON", 2), ("RSD", 2),
    ("RUB", 2), ("RWF", 0), ("SAR", 2), ("SBD", 2), ("SCR", 2), ("SDG", 2), ("SEK", 2),
    ("SGD", 2), ("SHP", 2), ("SLE", 2), ("SLL", 2), ("SOS", 2), ("SRD", 2), ("SSP", 2),
    ("STN", 2), ("SVC", 2), ("SYP", 2), ("SZL", 2), ("THB", 2), ("TJS", 2), ("TMT", 2),
    ("TND", 3), ("TOP", 2), ("TRY", 2), ("TTD", 2), ("TWD", 2), ("TZS", 2), ("UAH", 2),
    ("UGX", 0), ("USD", 2), ("USN", 2), ("UYI", 0), ("UYU", 2), ("UYW", 4), ("UZS", 2),
    ("VED", 2), ("VES", 2), ("VND", 0), ("VUV", 0), ("WST", 2), ("XAF", 0), ("XCD", 2),
    ("XCG", 2), ("XOF", 0), ("XPF", 0), ("YER", 2), ("ZAR", 2), ("ZMW", 2), ("ZWG", 2),
    ("ZWL", 2),
];

/// Withdrawn codes still found in archived statements (pre-euro currencies and recent
/// replacements). They are accepted so old files parse; the amounts are what the bank wrote.
#[rustfmt::skip]
const HISTORICAL: &[(&str, u8)] = &[
    ("ATS", 2), ("BEF", 2), ("CYP", 2), ("DEM", 2), ("EEK", 2), ("ESP", 0), ("FIM", 2),
    ("FRF", 2), ("GRD", 2), ("HRK", 2), ("IEP", 2), ("ITL", 0), ("LTL", 2), ("LUF", 2),
    ("LVL", 2), ("MTL", 2), ("NLG", 2), ("PTE", 0), ("SIT", 2), ("SKK", 2), ("VEF", 2),
];

/// Codes without minor units (precious metals, SDR): any scale is kept as written.
const NO_MINOR_UNITS: &[&str] = &["XAG", "XAU", "XDR", "XPD", "XPT"];

/// Index of a three-letter upper-case code in [`TABLE`].
const fn index(code: &[u8]) -> Option<usize> {
    if code.len() != 3 {
        return None;
    }
    let mut i = 0;
    let mut n = 0;
    while i < 3 {
        let c = code[i];
        if !c.is_ascii_uppercase() {
            return None;
        }
        n = n * 26 + (c - b'A') as usize;
        i += 1;
    }
    Some(n)
}

/// Every three-letter code: 0 unknown, 1 no minor units, else minor units + 2 (built from
/// the lists above at compile time, so a lookup is one load).
static TABLE: [u8; 26 * 26 * 26] = {
    let mut t = [0u8; 26 * 26 * 26];
    let mut i = 0;
    while i < NO_MINOR_UNITS.len() {
        if let Some(n) = index(NO_MINOR_UNITS[i].as_bytes()) {
            t[n] = 1;
        }
        i += 1;
    }
    // Withdrawn first, so an active code wins.
    let lists = [HISTORICAL, ACTIVE];
    let mut l = 0;
    while l < lists.len() {
        let list = lists[l];
        let mut i = 0;
        while i < list.len() {
            let (code, units) = list[i];
            if let Some(n) = index(code.as_bytes()) {
                t[n] = units + 2;
            }
            i += 1;
        }
        l += 1;
    }
    t
};

/// Minor units of a known currency, `None` for an unknown code, `Some(None)` for a code that
/// has no minor units (metals).
pub(crate) fn minor_units(code: &str) -> Option<Option<u8>> {
    match index(code.as_bytes()).and_then(|n| TABLE.get(n)) {
        None | Some(0) => None,
        Some(1) => Some(None),
        Some(u) => Some(Some(u - 2)),
    }
}

/// True for a code in ISO 4217 (active or withdrawn-but-seen).
#[must_use]
pub fn is_known(code: &str) -> bool {
    minor_units(code).is_some()
}

/// Map common non-ISO currency names used by Chinese bank exports to ISO codes.
pub(crate) fn from_alias(name: &str) -> Option<&'static str> {
    let code = match name.trim() {
        "人民币" | "人民幣" | "RMB" | "CNH" | "人民币元" => "CNY",
        "美元" | "美金" => "USD",
        "港币" | "港幣" | "港元" => "HKD",
        "欧元" | "歐元" => "EUR",
        "英镑" | "英鎊" => "GBP",
        "日元" | "日圆" => "JPY",
        "澳元" | "澳大利亚元" => "AUD",
        "加元" | "加拿大元" => "CAD",
        "新加坡元" => "SGD",
        "瑞士法郎" => "CHF",
        "澳门元" | "澳門幣" => "MOP",
        "新台币" | "新台幣" => "TWD",
        "韩元" => "KRW",
        _ => return None,
    };
    Some(code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookup_table_agrees_with_the_lists() {
        for (code, _) in ACTIVE.iter().chain(HISTORICAL) {
            assert!(index(code.as_bytes()).is_some(), "{code}");
        }
        // Every three-letter code, against the lists read directly.
        for n in 0..26 * 26 * 26 {
            let code: String = [n / 676, n / 26 % 26, n % 26]
                .iter()
                .map(|&d| char::from(b'A' + u8::try_from(d).unwrap()))
                .collect();
            let listed = |t: &[(&str, u8)]| t.iter().find(|(c, _)| *c == code).map(|(_, u)| *u);
            let expected = match listed(ACTIVE).or_else(|| listed(HISTORICAL)) {
                Some(u) => Some(Some(u)),
                None => NO_MINOR_UNITS.contains(&code.as_str()).then_some(None),
            };
            assert_eq!(minor_units(&code), expected, "{code}");
        }
        assert_eq!(minor_units("EU"), None);
        assert_eq!(minor_units("eur"), None);
    }

    #[test]
    fn known_and_unknown_codes() {
        assert_eq!(minor_units("CNY"), Some(Some(2)));
        assert_eq!(minor_units("JPY"), Some(Some(0)));
        assert_eq!(minor_units("KWD"), Some(Some(3)));
        assert_eq!(minor_units("DEM"), Some(Some(2)));
        assert_eq!(minor_units("XAU"), Some(None));
        assert_eq!(minor_units("105"), None);
        assert!(!is_known("ABC"));
        assert_eq!(from_alias("人民币"), Some("CNY"));
    }
}
