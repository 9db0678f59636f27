//! Chinese characters to pinyin syllables (mozillazg's pinyin-data through the `pinyin`
//! crate), and matching a romanised name against the syllables of a Chinese name (R-P4:
//! "Chinese and pinyin names"): with or without tones and spaces, in either order of
//! surname and given name, or with initials.

use pinyin::ToPinyinMulti;

/// Most readings kept per character (surnames such as 曾 zeng/ceng, 单 shan/dan, 区 ou/qu
/// need the second reading; the long tail of rare readings only adds false matches).
const MAX_READINGS: usize = 4;

/// The readings of one Han character, toneless and lower-case, with the usual romanisations
/// of `ü` (`lv`, `lu`, `lyu`). Fixed size: building one allocates nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Syllable {
    readings: [&'static str; 8],
    len: u8,
}

impl Syllable {
    /// The readings.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.readings.iter().take(usize::from(self.len)).copied()
    }

    fn push(&mut self, r: &'static str) {
        let n = usize::from(self.len);
        if n < self.readings.len() && !self.iter().any(|x| x == r) {
            if let Some(slot) = self.readings.get_mut(n) {
                *slot = r;
            }
            self.len += 1;
        }
    }
}

/// Romanisations of the syllables written with `ü`.
const U_UMLAUT: &[(&str, [&str; 3])] = &[
    ("lü", ["lv", "lu", "lyu"]),
    ("lüe", ["lve", "lue", "lyue"]),
    ("nü", ["nv", "nu", "nyu"]),
    ("nüe", ["nve", "nue", "nyue"]),
];

/// True for a CJK unified ideograph (the characters of Chinese names).
#[must_use]
pub(crate) fn is_han(c: char) -> bool {
    matches!(c, '\u{4E00}'..='\u{9FFF}' | '\u{3400}'..='\u{4DBF}' | '\u{F900}'..='\u{FAFF}')
}

/// Readings of a Han character, `None` when the data has none.
#[must_use]
pub(crate) fn syllable(c: char) -> Option<Syllable> {
    let multi = c.to_pinyin_multi()?;
    let mut s = Syllable {
        readings: [""; 8],
        len: 0,
    };
    for p in multi.into_iter().take(MAX_READINGS) {
        let plain = p.plain();
        if plain.contains('ü') {
            if let Some((_, forms)) = U_UMLAUT.iter().find(|(u, _)| *u == plain) {
                for f in forms {
                    s.push(f);
                }
            }
        } else {
            s.push(plain);
        }
    }
    (s.len > 0).then_some(s)
}

/// Syllables of every Han character of `han`; `None` if one has no reading.
#[must_use]
pub(crate) fn syllables(han: &str) -> Option<Vec<Syllable>> {
    han.chars().map(syllable).collect()
}

/// Toneless lower-case letters of a romanised name: tone marks and tone numbers dropped,
/// `ü` as `v`; tokens split at anything that is not a letter.
#[must_use]
pub(crate) fn latin_tokens(s: &str) -> Vec<String> {
    let mut tokens = Vec::new();
    let mut cur = String::new();
    for c in s.chars() {
        let c = crate::text::half_width(c);
        if let Some(base) = fold_letter(c) {
            cur.push(base);
        } else if c.is_ascii_digit() {
            // Tone numbers (`zhang1 wei3`) are dropped without splitting the syllable.
        } else if !cur.is_empty() {
            tokens.push(std::mem::take(&mut cur));
        }
    }
    if !cur.is_empty() {
        tokens.push(cur);
    }
    tokens
}

/// A Latin letter without its tone mark, lower-case; `None` for anything else.
fn fold_letter(c: char) -> Option<char> {
    if c.is_ascii_alphabetic() {
        return Some(c.to_ascii_lowercase());
    }
    let base = match c {
        'ā' | 'á' | 'ǎ' | 'à' | 'Ā' | 'Á' | 'Ǎ' | 'À' => 'a',
        'ē' | 'é' | 'ě' | 'è' | 'Ē' | 'É' | 'Ě' | 'È' | 'ê' | 'ế' | 'ề' | 'Ê' => 'e',
        'ī' | 'í' | 'ǐ' | 'ì' | 'Ī' | 'Í' | 'Ǐ' | 'Ì' => 'i',
        'ō' | 'ó' | 'ǒ' | 'ò' | 'Ō' | 'Ó' | 'Ǒ' | 'Ò' => 'o',
        'ū' | 'ú' | 'ǔ' | 'ù' | 'Ū' | 'Ú' | 'Ǔ' | 'Ù' => 'u',
        'ü' | 'ǖ' | 'ǘ' | 'ǚ' | 'ǜ' | 'Ü' | 'Ǖ' | 'Ǘ' | 'Ǚ' | 'Ǜ' => 'v',
        'ń' | 'ň' | 'ǹ' => 'n',
        'ḿ' => 'm',
        _ => return None,
    };
    Some(base)
}

/// How a romanised name matched the syllables of a Chinese name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum PinyinMatch {
    /// Every syllable written out, only initials used for the given name (`Zhang XM`).
    SurnameInitials,
    /// Every syllable written out (`ZHANG WEI`, `Wei Zhang`, `zhangwei`, `Zhāng Wěi`).
    Full,
}

/// Match `letters` (a romanised name, tokens joined) against syllables in the given order;
/// a syllable flagged `true` (given name) may be abbreviated to its first letter.
fn match_sequence(sylls: &[(&Syllable, bool)], letters: &[u8]) -> Option<PinyinMatch> {
    // reach[pos]: best quality reaching `pos` letters so far (0 no, 1 with initials, 2 full);
    // on the stack: names are short.
    const MAX: usize = 64;
    if letters.len() >= MAX {
        return None;
    }
    let mut reach = [0u8; MAX];
    reach[0] = 2;
    for (syl, abbreviable) in sylls {
        let mut next = [0u8; MAX];
        for (pos, &q) in reach.iter().enumerate().take(letters.len() + 1) {
            if q == 0 {
                continue;
            }
            for r in syl.iter() {
                let r = r.as_bytes();
                if letters.get(pos..pos + r.len()) == Some(r)
                    && let Some(slot) = next.get_mut(pos + r.len())
                {
                    *slot = (*slot).max(q);
                }
                if *abbreviable
                    && !r.is_empty()
                    && r.first() == letters.get(pos)
                    && let Some(slot) = next.get_mut(pos + 1)
                {
                    *slot = (*slot).max(q.min(1));
                }
            }
        }
        reach = next;
    }
    match reach[letters.len()] {
        2 => Some(PinyinMatch::Full),
        1 => Some(PinyinMatch::SurnameInitials),
        _ => None,
    }
}

/// Match romanised `letters` against a Chinese name's syllables, surname first or last.
/// Surnames are one or two characters (two only for names of three or more); given-name
/// syllables may be initials, the surname is always written out.
#[must_use]
pub(crate) fn match_letters(sylls: &[Syllable], letters: &str) -> Option<PinyinMatch> {
    if sylls.len() < 2 || letters.is_empty() || sylls.len() > 6 {
        return None;
    }
    let letters = letters.as_bytes();
    let mut best: Option<PinyinMatch> = None;
    let surname_lengths: &[usize] = if sylls.len() >= 3 { &[1, 2] } else { &[1] };
    let mut order: [(&Syllable, bool); 6] = [(&sylls[0], false); 6];
    for &s in surname_lengths {
        let (surname, given) = sylls.split_at(s);
        // Surname first (`Zhang Wei`), then given name first (`Wei Zhang`, `X.M. Zhang`).
        for western in [false, true] {
            let (first, second, first_given) = if western {
                (given, surname, true)
            } else {
                (surname, given, false)
            };
            let mut n = 0;
            for x in first {
                if let Some(slot) = order.get_mut(n) {
                    *slot = (x, first_given);
                }
                n += 1;
            }
            for x in second {
                if let Some(slot) = order.get_mut(n) {
                    *slot = (x, !first_given);
                }
                n += 1;
            }
            best = best.max(match_sequence(order.get(..n).unwrap_or_default(), letters));
            if best == Some(PinyinMatch::Full) {
                return best;
            }
        }
    }
    best
}

/// Call `f` with the syllables of each spelling of `sylls` (one reading per character), at
/// most `limit` of them, without allocating.
pub(crate) fn for_each_spelling(
    sylls: &[Syllable],
    limit: usize,
    mut f: impl FnMut(&[&'static str]),
) {
    const MAX: usize = 6;
    if sylls.is_empty() || sylls.len() > MAX {
        return;
    }
    let mut pick = [0usize; MAX];
    let mut parts = [""; MAX];
    for _ in 0..limit {
        for (i, s) in sylls.iter().enumerate() {
            if let (Some(slot), Some(r)) = (parts.get_mut(i), s.iter().nth(pick[i])) {
                *slot = r;
            }
        }
        f(parts.get(..sylls.len()).unwrap_or_default());
        // Next combination, last character fastest.
        let mut i = sylls.len();
        loop {
            if i == 0 {
                return;
            }
            i -= 1;
            pick[i] += 1;
            if pick[i] < sylls.get(i).map_or(0, |s| s.iter().count()) {
                break;
            }
            pick[i] = 0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(han: &str, latin: &str) -> Option<PinyinMatch> {
        let sylls = syllables(han)?;
        match_letters(&sylls, &latin_tokens(latin).concat())
    }

    #[test]
    fn pinyin_with_or_without_tones_spaces_and_order() {
        // R-P4: Chinese and pinyin names.
        for latin in [
            "ZHANG WEI",
            "Zhang Wei",
            "zhangwei",
            "WEI ZHANG",
            "Zhāng Wěi",
            "zhang1 wei3",
        ] {
            assert_eq!(m("张伟", latin), Some(PinyinMatch::Full), "{latin}");
        }
        assert_eq!(m("张小明", "Xiaoming Zhang"), Some(PinyinMatch::Full));
        assert_eq!(m("欧阳娜娜", "OUYANG NANA"), Some(PinyinMatch::Full));
    }

    #[test]
    fn initials_and_heteronym_surnames() {
        assert_eq!(m("张小明", "Zhang XM"), Some(PinyinMatch::SurnameInitials));
        assert_eq!(
            m("张小明", "X.M. Zhang"),
            Some(PinyinMatch::SurnameInitials)
        );
        assert_eq!(m("曾伟", "ZENG WEI"), Some(PinyinMatch::Full));
        assert_eq!(m("吕芳", "LYU FANG"), Some(PinyinMatch::Full));
        assert_eq!(m("吕芳", "LV FANG"), Some(PinyinMatch::Full));
    }

    #[test]
    fn other_people_do_not_match() {
        assert_eq!(m("张伟", "ZHANG WEN"), None);
        assert_eq!(m("张伟", "LI WEI"), None);
        assert_eq!(m("张伟", "ZHANG"), None);
        assert_eq!(m("张伟", "Z W"), None);
    }

    #[test]
    fn spellings_cover_readings() {
        let s = syllables("曾伟").unwrap_or_default();
        let mut all = Vec::new();
        for_each_spelling(&s, 8, |parts| all.push(parts.concat()));
        assert!(all.contains(&"zengwei".to_string()), "{all:?}");
        assert!(all.contains(&"cengwei".to_string()), "{all:?}");
    }
}
