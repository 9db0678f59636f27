//! Payer-name matching (R-P4): Chinese characters, pinyin with or without tones and spaces,
//! initials, word order, and company suffixes such as 有限公司 / Co., Ltd. ignored.
//!
//! A name is normalised once into a [`NameKey`]; the ledger indexes customers by
//! [`NameKey::index_keys`] (the exact Han core, and the sorted letters of each pinyin
//! spelling, so `ZHANG WEI`, `Wei Zhang` and `zhangwei` meet 张伟) and [`compare`] then
//! decides precisely how a payer's name matches a candidate customer's.

pub(crate) mod pinyin;

use self::pinyin::{
    PinyinMatch, for_each_spelling, is_han, latin_tokens, match_letters, syllables,
};
use crate::text::hash64;

/// Company suffixes removed from Han names, longest first.
const HAN_SUFFIXES: &[&str] = &[
    "股份有限公司",
    "有限责任公司",
    "有限責任公司",
    "集团有限公司",
    "有限公司",
    "分公司",
    "总公司",
    "公司",
    "集团",
    "有限合伙",
    "合伙企业",
    "工作室",
    "商行",
    "个体户",
];

/// Company words removed from Latin names (after splitting at punctuation).
const LATIN_SUFFIXES: &[&str] = &[
    "co",
    "ltd",
    "limited",
    "inc",
    "incorporated",
    "corp",
    "corporation",
    "company",
    "llc",
    "plc",
    "gmbh",
    "ag",
    "bv",
    "pte",
    "the",
];

/// A name normalised for matching.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct NameKey {
    /// Han characters of the name's core (company suffix and region prefix removed).
    pub(crate) han: String,
    /// Latin tokens (lower-case, toneless), company words removed.
    pub(crate) tokens: Vec<String>,
    /// A company (had a company suffix, or a Han core longer than a person's name).
    pub(crate) company: bool,
    /// Hash of `han` (equal names are recognised without reading the other's text).
    pub(crate) han_hash: u64,
}

/// How a payer's name matches a customer's, strongest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NameMatch {
    /// Only the surname is written out, the given name is abbreviated (`Zhang XM`).
    Initials,
    /// Same pronunciation, different characters (张玮 for 张伟): a typing slip or a sibling.
    Homophone,
    /// The company names agree once suffixes and the region are set aside.
    CompanyCore,
    /// The same name with an extra initial on one side (`Jackson Ella W.` for Ella
    /// Jackson).
    ExtraInitial,
    /// The pinyin of the Chinese name (any tones, spacing or word order).
    Pinyin,
    /// The same name.
    Exact,
}

impl NameKey {
    /// Normalise a name.
    #[must_use]
    pub(crate) fn new(name: &str) -> Self {
        let mut han: String = String::new();
        let mut depth = 0usize;
        for c in name.chars() {
            match crate::text::half_width(c) {
                '(' | '[' | '【' | '〔' => depth += 1,
                ')' | ']' | '】' | '〕' => depth = depth.saturating_sub(1),
                c if depth == 0 && is_han(c) => han.push(c),
                _ => {}
            }
        }
        let mut company = false;
        // A person's name (up to three characters) carries no company suffix.
        while han.len() > 9 {
            let before = han.len();
            for suffix in HAN_SUFFIXES {
                if han.len() > suffix.len()
                    && let Some(core) = han.strip_suffix(suffix)
                {
                    han.truncate(core.len());
                    company = true;
                    break;
                }
            }
            if han.len() == before {
                break;
            }
        }
        let char_count = han.chars().count();
        if char_count > 4 {
            company = true;
        }
        if company {
            strip_region(&mut han);
        }
        let mut tokens = latin_tokens(name);
        let before = tokens.len();
        tokens.retain(|t| !LATIN_SUFFIXES.contains(&t.as_str()));
        if tokens.len() != before && !tokens.is_empty() {
            company = true;
        }
        Self {
            han_hash: hash64(han.as_bytes()),
            han,
            tokens,
            company,
        }
    }

    /// True when nothing usable is left.
    #[must_use]
    pub(crate) fn is_empty(&self) -> bool {
        self.han.is_empty() && self.tokens.is_empty()
    }

    /// Hashes under which the name is indexed and looked up (symmetric: a payer's keys meet
    /// a customer's keys when the names could match at the [`NameMatch::Pinyin`] level).
    #[must_use]
    pub(crate) fn index_keys(&self) -> Vec<u64> {
        let (mut keys, sounds) = self.lookup_keys();
        keys.extend(sounds);
        keys.sort_unstable();
        keys.dedup();
        keys
    }

    /// Keys to look a payer up with: the exact Han name first (homophones would flood a
    /// common name), then, if that finds nobody, the letters of its pinyin. A romanised name
    /// has only its letters.
    #[must_use]
    pub(crate) fn lookup_keys(&self) -> (Vec<u64>, Vec<u64>) {
        let mut exact = Vec::with_capacity(1);
        let mut sounds = Vec::with_capacity(4);
        if !self.han.is_empty() {
            let mut k = String::with_capacity(self.han.len() + 2);
            k.push_str("H:");
            k.push_str(&self.han);
            exact.push(hash64(k.as_bytes()));
            if !self.company
                && let Some(s) = syllables(&self.han)
            {
                for_each_spelling(&s, 4, |parts| {
                    sounds.push(letters_key(&count_letters(parts.iter().copied())))
                });
            }
        }
        if !self.tokens.is_empty() {
            let k = letters_key(&count_letters(self.tokens.iter().map(String::as_str)));
            if exact.is_empty() {
                exact.push(k);
            } else {
                sounds.push(k);
            }
            // Without its initials (`Jackson Ella W.` → `jackson ella`), so a name written
            // with and without a middle initial meets (issue 19).
            if let Some(words) = without_initials(&self.tokens) {
                sounds.push(letters_key(&count_letters(words)));
            }
        }
        sounds.sort_unstable();
        sounds.dedup();
        (exact, sounds)
    }
}

/// The words of a romanised name without its initials (one-letter tokens), when it has
/// initials and at least two words besides them (a surname alone identifies nobody).
fn without_initials(tokens: &[String]) -> Option<impl Iterator<Item = &str> + Clone> {
    let words = tokens.iter().filter(|t| t.len() > 1).count();
    (words >= 2 && words < tokens.len())
        .then(|| tokens.iter().filter(|t| t.len() > 1).map(String::as_str))
}

/// Names in free text (issue 19): foreign files often leave the payer-name field empty and
/// carry the name in the remittance (`1234//HADDOCK-Archibald`, `/ORDP/张伟/…`). The text is
/// cut at anything that cannot be part of a name (digits, `/`, `,`, `;`, brackets…); each
/// piece with two to five Latin words (at least two of two letters or more), or two to four
/// Han characters, or a Han company name, is a name candidate. At most four are returned.
#[must_use]
pub(crate) fn names_in_text(text: &str) -> Vec<(String, NameKey)> {
    const MAX: usize = 4;
    let mut out: Vec<(String, NameKey)> = Vec::new();
    let mut piece = String::new();
    let mut han_piece = String::new();
    let flush = |piece: &mut String, han_piece: &mut String, out: &mut Vec<(String, NameKey)>| {
        for part in [std::mem::take(piece), std::mem::take(han_piece)] {
            if out.len() >= MAX {
                return;
            }
            let key = NameKey::new(&part);
            let han_chars = key.han.chars().count();
            let words = key.tokens.iter().filter(|t| t.len() > 1).count();
            let name_like = if key.han.is_empty() {
                (2..=5).contains(&key.tokens.len()) && words >= 2
            } else {
                (2..=4).contains(&han_chars) || key.company
            };
            if name_like && !out.iter().any(|(_, k)| *k == key) {
                let written = part.trim_matches([' ', '-', '.', '\'']).to_string();
                out.push((written, key));
            }
        }
    };
    for c in text.chars() {
        let c = crate::text::half_width(c);
        if is_han(c) {
            han_piece.push(c);
        } else if c.is_alphabetic() || matches!(c, ' ' | '-' | '\'' | '.') {
            if !han_piece.is_empty() {
                flush(&mut piece, &mut han_piece, &mut out);
            }
            piece.push(c);
        } else {
            flush(&mut piece, &mut han_piece, &mut out);
        }
    }
    flush(&mut piece, &mut han_piece, &mut out);
    out
}

/// Remove a leading `XX省`/`XX市` (and a following `XX市`) region from a company name.
fn strip_region(han: &mut String) {
    for marker in ['省', '市', '区'] {
        let cut = han
            .char_indices()
            .take(4)
            .find(|(_, c)| *c == marker)
            .map(|(i, c)| i + c.len_utf8());
        if let Some(cut) = cut
            && han.len() - cut >= 6
        {
            han.replace_range(..cut, "");
        }
    }
}

/// Letter counts of some lower-case ASCII parts.
fn count_letters<'a>(parts: impl IntoIterator<Item = &'a str>) -> [u8; 26] {
    let mut counts = [0u8; 26];
    for b in parts.into_iter().flat_map(str::bytes) {
        if b.is_ascii_lowercase()
            && let Some(c) = counts.get_mut(usize::from(b - b'a'))
        {
            *c = c.saturating_add(1);
        }
    }
    counts
}

/// Hash of the multiset of letters (the sorted letters): independent of spacing and word
/// order.
fn letters_key(counts: &[u8; 26]) -> u64 {
    let mut h = crate::text::Fnv::new();
    h.write(b"L:").write(counts);
    h.finish()
}

/// How `payer` matches `customer`, if at all. A name that matches only once an initial is
/// set aside on either side (`Jackson Ella W.`, `ZHANG WEI X.`) is [`NameMatch::ExtraInitial`].
#[must_use]
pub(crate) fn compare(payer: &NameKey, customer: &NameKey) -> Option<NameMatch> {
    compare_as_written(payer, customer).or_else(|| {
        let strip = |k: &NameKey| {
            without_initials(&k.tokens).map(|words| NameKey {
                tokens: words.map(str::to_string).collect(),
                ..k.clone()
            })
        };
        let (p, c) = (strip(payer), strip(customer));
        if p.is_none() && c.is_none() {
            return None;
        }
        let m = compare_as_written(p.as_ref().unwrap_or(payer), c.as_ref().unwrap_or(customer))?;
        matches!(m, NameMatch::Exact | NameMatch::Pinyin).then_some(NameMatch::ExtraInitial)
    })
}

fn compare_as_written(payer: &NameKey, customer: &NameKey) -> Option<NameMatch> {
    if !payer.han.is_empty() && payer.han_hash == customer.han_hash {
        return Some(NameMatch::Exact);
    }
    if !payer.han.is_empty() && !customer.han.is_empty() {
        return compare_han(&payer.han, &customer.han, payer.company || customer.company);
    }
    if !payer.tokens.is_empty() && !customer.han.is_empty() && !customer.company {
        return pinyin_level(&customer.han, &payer.tokens.concat());
    }
    if !payer.han.is_empty() && !customer.tokens.is_empty() && !payer.company {
        return pinyin_level(&payer.han, &customer.tokens.concat());
    }
    if !payer.tokens.is_empty() && !customer.tokens.is_empty() {
        return compare_latin(&payer.tokens, &customer.tokens);
    }
    None
}

fn pinyin_level(han: &str, letters: &str) -> Option<NameMatch> {
    let sylls = syllables(han)?;
    match match_letters(&sylls, letters)? {
        PinyinMatch::Full => Some(NameMatch::Pinyin),
        PinyinMatch::SurnameInitials => Some(NameMatch::Initials),
    }
}

fn compare_han(payer: &str, customer: &str, company: bool) -> Option<NameMatch> {
    if payer == customer {
        return Some(NameMatch::Exact);
    }
    let (short, long) = if payer.len() <= customer.len() {
        (payer, customer)
    } else {
        (customer, payer)
    };
    if company {
        // A bank cuts long names, and writes the region or not: the shorter core of at least
        // four characters inside the longer one is the same company.
        return (short.chars().count() >= 4 && long.contains(short))
            .then_some(NameMatch::CompanyCore);
    }
    // Same common (first) reading of every character: rare readings would make far too
    // many names "sound alike".
    let (a, b) = (syllables(payer)?, syllables(customer)?);
    let homophone = a.len() == b.len()
        && a.len() >= 2
        && a.iter()
            .zip(&b)
            .all(|(x, y)| x.iter().next() == y.iter().next());
    homophone.then_some(NameMatch::Homophone)
}

fn compare_latin(payer: &[String], customer: &[String]) -> Option<NameMatch> {
    let mut a: Vec<&str> = payer.iter().map(String::as_str).collect();
    let mut b: Vec<&str> = customer.iter().map(String::as_str).collect();
    if payer.concat() == customer.concat() {
        return Some(NameMatch::Exact);
    }
    a.sort_unstable();
    b.sort_unstable();
    if a == b {
        return Some(NameMatch::Exact);
    }
    let sorted = |t: &[String]| {
        let mut l: Vec<u8> = t.concat().into_bytes();
        l.sort_unstable();
        l
    };
    // Same letters, split or ordered differently (`XIAOMING ZHANG` / `Zhang Xiao Ming`).
    if sorted(payer) == sorted(customer) {
        return Some(NameMatch::Pinyin);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cmp(payer: &str, customer: &str) -> Option<NameMatch> {
        compare(&NameKey::new(payer), &NameKey::new(customer))
    }

    #[test]
    fn chinese_names() {
        // R-P4: Chinese and pinyin names.
        assert_eq!(cmp("张伟", "张伟"), Some(NameMatch::Exact));
        assert_eq!(cmp("张 伟", "张伟"), Some(NameMatch::Exact));
        assert_eq!(cmp("张玮", "张伟"), Some(NameMatch::Homophone));
        assert_eq!(cmp("李娜", "张伟"), None);
        assert_eq!(cmp("张建国", "张伟"), None);
        assert_eq!(cmp("ZHANG WEI", "张伟"), Some(NameMatch::Pinyin));
        assert_eq!(cmp("张伟", "Zhang Wei"), Some(NameMatch::Pinyin));
        assert_eq!(cmp("Zhang X.M.", "张小明"), Some(NameMatch::Initials));
    }

    #[test]
    fn company_suffixes_are_ignored() {
        let customer = "深圳市华兴贸易有限公司";
        assert_eq!(
            cmp("深圳市华兴贸易有限公司", customer),
            Some(NameMatch::Exact)
        );
        assert_eq!(
            cmp("深圳华兴贸易有限责任公司", customer),
            Some(NameMatch::CompanyCore)
        );
        assert_eq!(
            cmp("华兴贸易（深圳）有限公司", customer),
            Some(NameMatch::Exact)
        );
        assert_eq!(
            cmp("深圳市华兴贸易有", customer),
            Some(NameMatch::CompanyCore)
        );
        assert_eq!(cmp("深圳市华兴贸", customer), None);
        assert_eq!(
            cmp("ACME TRADING CO., LTD.", "Acme Trading Company Limited"),
            Some(NameMatch::Exact)
        );
    }

    #[test]
    fn r_p4_an_extra_initial_does_not_hide_a_name() {
        // R-P4 (issue 19): `Jackson Ella W.` is Ella Jackson with a middle initial.
        assert_eq!(
            cmp("Jackson Ella W.", "Ella Jackson"),
            Some(NameMatch::ExtraInitial)
        );
        assert_eq!(
            cmp("Ella Jackson", "JACKSON ELLA W"),
            Some(NameMatch::ExtraInitial)
        );
        assert_eq!(cmp("ZHANG WEI X.", "张伟"), Some(NameMatch::ExtraInitial));
        // An initial alone with a different name is no match, nor is a surname alone.
        assert_eq!(cmp("Jackson Emma W.", "Ella Jackson"), None);
        assert_eq!(cmp("Jackson W.", "Ella Jackson"), None);
        // And the index finds them under each other's keys.
        let customer = NameKey::new("Ella Jackson").index_keys();
        let (exact, sounds) = NameKey::new("Jackson Ella W.").lookup_keys();
        assert!(exact.iter().chain(&sounds).any(|k| customer.contains(k)));
    }

    #[test]
    fn r_p4_names_in_remittance_text() {
        // R-P4 (issue 19): foreign files carry the payer's name in the free text.
        let found = |text: &str| -> Vec<Vec<String>> {
            names_in_text(text)
                .into_iter()
                .map(|(_, k)| {
                    if k.han.is_empty() {
                        k.tokens
                    } else {
                        vec![k.han]
                    }
                })
                .collect()
        };
        assert!(
            found("1234//HADDOCK-Archibald")
                .contains(&vec!["haddock".to_string(), "archibald".to_string()])
        );
        assert!(found("/ORDP/张伟/HT-2024-001").contains(&vec!["张伟".to_string()]));
        // Numbers and references are not names.
        assert!(found("HT-2024-001-00123 20240301").is_empty());
    }

    #[test]
    fn index_keys_meet_across_scripts() {
        let han = NameKey::new("张伟").index_keys();
        for payer in ["ZHANG WEI", "Wei Zhang", "zhangwei", "张伟"] {
            let keys = NameKey::new(payer).index_keys();
            assert!(keys.iter().any(|k| han.contains(k)), "{payer}");
        }
        let other = NameKey::new("LI NA").index_keys();
        assert!(!other.iter().any(|k| han.contains(k)));
    }
}
