//! ISO 4217 currencies and their minor units.
//!
//! Only codes with a defined number of minor units are listed: fund codes such as `XDR` or
//! precious metals (`XAU`) have none and cannot carry a receivable.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::MoneyError;

/// An ISO 4217 currency with the number of minor units (decimal places) it is settled in.
///
/// Values only come from the built-in table, so a `Currency` is always a real code with the
/// right number of minor units (CNY: 2 — fen; JPY: 0; KWD: 3).
///
/// Stored as a 2-byte index into the table so that `Money` stays small (it is copied a lot in
/// late-fee breakdowns).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Currency {
    idx: u16,
}

/// Index of `code` in the table, at compile time (used for the named constants).
const fn index_of(code: &str) -> u16 {
    let wanted = code.as_bytes();
    let mut i = 0;
    while i < ISO_4217.len() {
        let have = ISO_4217[i].0.as_bytes();
        if have[0] == wanted[0] && have[1] == wanted[1] && have[2] == wanted[2] {
            return i as u16;
        }
        i += 1;
    }
    // Only evaluated at compile time (for the named constants): a missing code fails the build.
    panic!("currency constant missing from the ISO 4217 table")
}

impl Currency {
    /// Chinese yuan, the default currency of the product (2 minor units: fen).
    pub const CNY: Currency = Currency {
        idx: index_of("CNY"),
    };
    /// US dollar.
    pub const USD: Currency = Currency {
        idx: index_of("USD"),
    };
    /// Euro.
    pub const EUR: Currency = Currency {
        idx: index_of("EUR"),
    };
    /// Hong Kong dollar.
    pub const HKD: Currency = Currency {
        idx: index_of("HKD"),
    };
    /// Japanese yen (no minor units).
    pub const JPY: Currency = Currency {
        idx: index_of("JPY"),
    };

    /// Looks up an ISO 4217 alphabetic code (case-insensitive, surrounding spaces ignored).
    pub fn from_code(code: &str) -> Result<Currency, MoneyError> {
        let wanted = code.trim().to_ascii_uppercase();
        ISO_4217
            .binary_search_by(|(c, _)| (*c).cmp(wanted.as_str()))
            .map(|i| Currency { idx: i as u16 })
            .map_err(|_| MoneyError::UnknownCurrency {
                code: code.to_string(),
            })
    }

    /// The three-letter ISO 4217 code, e.g. `"CNY"`.
    pub fn code(&self) -> &'static str {
        ISO_4217[usize::from(self.idx)].0
    }

    /// Number of decimal places of the minor unit (2 for CNY).
    pub fn minor_units(&self) -> u32 {
        ISO_4217[usize::from(self.idx)].1
    }

    /// All currencies this crate knows, in code order.
    pub fn all() -> impl Iterator<Item = Currency> {
        (0..ISO_4217.len()).map(|i| Currency { idx: i as u16 })
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl fmt::Debug for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}({})", self.code(), self.minor_units())
    }
}

impl FromStr for Currency {
    type Err = MoneyError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Currency::from_code(s)
    }
}

impl Serialize for Currency {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.code())
    }
}

impl<'de> Deserialize<'de> for Currency {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let code = String::deserialize(d)?;
        Currency::from_code(&code).map_err(serde::de::Error::custom)
    }
}

/// ISO 4217 list (active codes with defined minor units), sorted by code for binary search.
const ISO_4217: &[(&str, u32)] = &[
    ("AED", 2),
    ("AFN", 2),
    ("ALL", 2),
    ("AMD", 2),
    ("ANG", 2),
    ("AOA", 2),
    ("ARS", 2),
    ("AUD", 2),
    ("AWG", 2),
    ("AZN", 2),
    ("BAM", 2),
    ("BBD", 2),
    ("BDT", 2),
    ("BGN", 2),
    ("BHD", 3),
    ("BIF", 0),
    ("BMD", 2),
    ("BND", 2),
    ("BOB", 2),
    ("BOV", 2),
    ("BRL", 2),
    ("BSD", 2),
    ("BTN", 2),
    ("BWP", 2),
    ("BYN", 2),
    ("BZD", 2),
    ("CAD", 2),
    ("CDF", 2),
    ("CHE", 2),
    ("CHF", 2),
    ("CHW", 2),
    ("CLF", 4),
    ("CLP", 0),
    ("CNY", 2),
    ("COP", 2),
    ("COU", 2),
    ("CRC", 2),
    ("CUP", 2),
    ("CVE", 2),
    ("CZK", 2),
    ("DJF", 0),
    ("DKK", 2),
    ("DOP", 2),
    ("DZD", 2),
    ("EGP", 2),
    ("ERN", 2),
    ("ETB", 2),
    ("EUR", 2),
    ("FJD", 2),
    ("FKP", 2),
    ("GBP", 2),
    ("GEL", 2),
    ("GHS", 2),
    ("GIP", 2),
    ("GMD", 2),
    ("GNF", 0),
    ("GTQ", 2),
    ("GYD", 2),
    ("HKD", 2),
    ("HNL", 2),
    ("HTG", 2),
    ("HUF", 2),
    ("IDR", 2),
    ("ILS", 2),
    ("INR", 2),
    ("IQD", 3),
    ("IRR", 2),
    ("ISK", 0),
    ("JMD", 2),
    ("JOD", 3),
    ("JPY", 0),
    ("KES", 2),
    ("KGS", 2),
    ("KHR", 2),
    ("KMF", 0),
    ("KPW", 2),
    ("KRW", 0),
    ("KWD", 3),
    ("KYD", 2),
    ("KZT", 2),
    ("LAK", 2),
    ("LBP", 2),
    ("LKR", 2),
    ("LRD", 2),
    ("LSL", 2),
    ("LYD", 3),
    ("MAD", 2),
    ("MDL", 2),
    ("MGA", 2),
    ("MKD", 2),
    ("MMK", 2),
    ("MNT", 2),
    ("MOP", 2),
    ("MRU", 2),
    ("MUR", 2),
    ("MVR", 2),
    ("MWK", 2),
    ("MXN", 2),
    ("MXV", 2),
    ("MYR", 2),
    ("MZN", 2),
    ("NAD", 2),
    ("NGN", 2),
    ("NIO", 2),
    ("NOK", 2),
    ("NPR", 2),
    ("NZD", 2),
    ("OMR", 3),
    ("PAB", 2),
    ("PEN", 2),
    ("PGK", 2),
    ("PHP", 2),
    ("PKR", 2),
    ("PLN", 2),
    ("PYG", 0),
    ("QAR", 2),
    ("RON", 2),
    ("RSD", 2),
    ("RUB", 2),
    ("RWF", 0),
    ("SAR", 2),
    ("SBD", 2),
    ("SCR", 2),
    ("SDG", 2),
    ("SEK", 2),
    ("SGD", 2),
    ("SHP", 2),
    ("SLE", 2),
    ("SOS", 2),
    ("SRD", 2),
    ("SSP", 2),
    ("STN", 2),
    ("SVC", 2),
    ("SYP", 2),
    ("SZL", 2),
    ("THB", 2),
    ("TJS", 2),
    ("TMT", 2),
    ("TND", 3),
    ("TOP", 2),
    ("TRY", 2),
    ("TTD", 2),
    ("TWD", 2),
    ("TZS", 2),
    ("UAH", 2),
    ("UGX", 0),
    ("USD", 2),
    ("USN", 2),
    ("UYI", 0),
    ("UYU", 2),
    ("UYW", 4),
    ("UZS", 2),
    ("VED", 2),
    ("VES", 2),
    ("VND", 0),
    ("VUV", 0),
    ("WST", 2),
    ("XAF", 0),
    ("XCD", 2),
    ("XCG", 2),
    ("XOF", 0),
    ("XPF", 0),
    ("YER", 2),
    ("ZAR", 2),
    ("ZMW", 2),
    ("ZWG", 2),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_sorted_and_unique() {
        assert!(ISO_4217.windows(2).all(|w| w[0].0 < w[1].0));
        assert!(ISO_4217.iter().all(|(c, _)| c.len() == 3));
    }

    #[test]
    fn named_constants_have_the_right_minor_units() {
        let c = |c: Currency| (c.code(), c.minor_units());
        assert_eq!(c(Currency::CNY), ("CNY", 2));
        assert_eq!(c(Currency::USD), ("USD", 2));
        assert_eq!(c(Currency::EUR), ("EUR", 2));
        assert_eq!(c(Currency::HKD), ("HKD", 2));
        assert_eq!(c(Currency::JPY), ("JPY", 0));
        assert_eq!(Currency::all().count(), ISO_4217.len());
    }

    #[test]
    fn lookup_is_case_insensitive_and_knows_minor_units() {
        assert_eq!(Currency::from_code("cny").unwrap(), Currency::CNY);
        assert_eq!(Currency::from_code(" JPY ").unwrap().minor_units(), 0);
        assert_eq!(Currency::from_code("KWD").unwrap().minor_units(), 3);
        assert_eq!(Currency::from_code("CLF").unwrap().minor_units(), 4);
        for c in [Currency::CNY, Currency::USD, Currency::EUR, Currency::HKD] {
            assert_eq!(Currency::from_code(c.code()).unwrap(), c);
        }
    }

    #[test]
    fn unknown_code_is_named_in_the_error() {
        let err = Currency::from_code("RMB").unwrap_err();
        assert!(err.to_string().contains("\"RMB\""), "{err}");
        assert!(err.to_string().contains("ISO 4217"), "{err}");
    }

    #[test]
    fn serde_uses_the_code() {
        let json = serde_json::to_string(&Currency::CNY).unwrap();
        assert_eq!(json, "\"CNY\"");
        let back: Currency = serde_json::from_str("\"usd\"").unwrap();
        assert_eq!(back, Currency::USD);
        assert!(serde_json::from_str::<Currency>("\"ABC\"").is_err());
    }
}
