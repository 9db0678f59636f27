//! Reference candidates in remittance text (R-P4): contract or receivable numbers written
//! exactly, with spaces, dashes or full-width characters, as digits only, or cut short.
//!
//! The text is folded to half-width upper case and split into *pieces* (runs of ASCII letters
//! and digits). Pieces separated only by "soft" separators (space, `-`, `_`, `/`, `.`, `#`,
//! `:`, and brackets of any kind, ASCII or full-width: `()[]{}（）〔〕【】〖〗`) form a *run*;
//! any other character (a Chinese character, a comma) ends the run. Every window of up to
//! [`MAX_PIECES`] consecutive pieces of a run is a candidate reference, in its compact form
//! (`HT 2023-017 00123` → `HT202301700123`, `HT〔2024〕015号` → `HT2024015`) and as its
//! digits. Windows shorter than [`MIN_LEN`] are kept only when they mix letters and digits
//! (`HT-1`): a lone short word or number is not a reference.

use crate::text::half_width;

/// Longest window, in pieces (`HT-2023-017-00123-03` is five).
pub(crate) const MAX_PIECES: usize = 5;
/// Longest compact window considered a reference.
const MAX_LEN: usize = 32;
/// Shortest compact window considered a reference on its own.
const MIN_LEN: usize = 4;
/// Shortest compact window considered a reference when it has letters and digits (`HT1`).
const MIN_MIXED_LEN: usize = 3;

/// One candidate reference.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Window<'a> {
    /// Compact form: upper-case letters and digits.
    pub(crate) compact: &'a str,
    /// Its digits.
    pub(crate) digits: &'a str,
    /// The window ends the text (a reference there may have been cut short by the bank).
    pub(crate) at_end: bool,
}

/// The windows of a payment's texts, stored in two buffers (the hot path allocates little).
#[derive(Debug, Clone, Default)]
pub(crate) struct Windows {
    compact: String,
    digits: String,
    spans: Vec<(u32, u32, u32, u32, bool)>,
}

impl Windows {
    /// The windows, in order of appearance.
    pub(crate) fn iter(&self) -> impl Iterator<Item = Window<'_>> + '_ {
        self.spans.iter().map(|&(c0, c1, d0, d1, at_end)| Window {
            compact: self
                .compact
                .get(c0 as usize..c1 as usize)
                .unwrap_or_default(),
            digits: self
                .digits
                .get(d0 as usize..d1 as usize)
                .unwrap_or_default(),
            at_end,
        })
    }

    /// Number of windows.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.spans.len()
    }

    /// Add the window whose compact text is `text` (pieces concatenated).
    fn push(&mut self, text: &str, at_end: bool) {
        let n = |x: usize| u32::try_from(x).unwrap_or(u32::MAX);
        let c0 = self.compact.len();
        self.compact.push_str(text);
        let c1 = self.compact.len();
        let d0 = self.digits.len();
        self.digits
            .extend(text.chars().filter(char::is_ascii_digit));
        let d1 = self.digits.len();
        self.spans.push((n(c0), n(c1), n(d0), n(d1), at_end));
    }
}

/// Split texts into windows, in order of appearance (a text repeating a number gives the
/// same window twice; lookups do not mind).
#[cfg(test)]
pub(crate) fn windows<'a>(texts: impl IntoIterator<Item = &'a str>) -> Windows {
    windows_where(texts, |_, _, _| true)
}

/// Split texts into windows, in order of appearance, keeping only those for which
/// `keep(compact length, digit count, at end)` holds (a ledger keeps only lengths its keys
/// can have).
pub(crate) fn windows_where<'a>(
    texts: impl IntoIterator<Item = &'a str>,
    keep: impl Fn(usize, usize, bool) -> bool,
) -> Windows {
    let mut out = Windows {
        compact: String::with_capacity(128),
        digits: String::with_capacity(96),
        spans: Vec::with_capacity(16),
    };
    let mut pieces = String::with_capacity(64);
    // (start, end, digit count) of each piece, and where each run of pieces ends.
    let mut spans: Vec<(usize, usize, usize)> = Vec::with_capacity(16);
    let mut run_ends: Vec<usize> = Vec::with_capacity(8);
    for text in texts {
        pieces.clear();
        spans.clear();
        run_ends.clear();
        split(text, &mut pieces, &mut spans, &mut run_ends);
        let mut run_start = 0;
        let last_run = run_ends.len().saturating_sub(1);
        for (r, &run_end) in run_ends.iter().enumerate() {
            for i in run_start..run_end {
                let (mut len, mut digit_count) = (0, 0);
                let mut letters = false;
                let from = spans.get(i).map_or(0, |s| s.0);
                for j in i..run_end.min(i + MAX_PIECES) {
                    let Some(&(a, b, d)) = spans.get(j) else {
                        break;
                    };
                    len += b - a;
                    digit_count += d;
                    letters |= d < b - a;
                    if len > MAX_LEN {
                        break;
                    }
                    let at_end = r == last_run && j + 1 == run_end;
                    let short_ok = len >= MIN_MIXED_LEN && letters && digit_count > 0;
                    if (len < MIN_LEN && !short_ok) || !keep(len, digit_count, at_end) {
                        continue;
                    }
                    out.push(pieces.get(from..b).unwrap_or_default(), at_end);
                }
            }
            run_start = run_end;
        }
    }
    out
}

/// Pieces of one text into `pieces` (upper-cased ASCII, concatenated), with their spans and
/// digit counts, and the end (exclusive piece index) of each run.
fn split(
    text: &str,
    pieces: &mut String,
    spans: &mut Vec<(usize, usize, usize)>,
    run_ends: &mut Vec<usize>,
) {
    let mut start = 0;
    let mut digit_count = 0;
    for c in text.chars() {
        let c = half_width(c);
        if c.is_ascii_alphanumeric() {
            pieces.push(c.to_ascii_uppercase());
            digit_count += usize::from(c.is_ascii_digit());
            continue;
        }
        if pieces.len() > start {
            spans.push((start, pieces.len(), digit_count));
            start = pieces.len();
            digit_count = 0;
        }
        let soft = is_soft(c);
        if !soft && !spans.is_empty() && run_ends.last() != Some(&spans.len()) {
            run_ends.push(spans.len());
        }
    }
    if pieces.len() > start {
        spans.push((start, pieces.len(), digit_count));
    }
    if !spans.is_empty() && run_ends.last() != Some(&spans.len()) {
        run_ends.push(spans.len());
    }
}

/// Separators that keep the pieces of one reference together (after half-width folding):
/// spaces, dashes and the like, and brackets — bracketed years are how Chinese contract and
/// document numbers are written (`HT(2024)015`, `〔2024〕`, `【2024】`; R-P4, issue 19).
fn is_soft(c: char) -> bool {
    matches!(
        c,
        ' ' | '-'
            | '_'
            | '/'
            | '.'
            | '#'
            | ':'
            | '\t'
            | '('
            | ')'
            | '['
            | ']'
            | '{'
            | '}'
            | '〔'
            | '〕'
            | '【'
            | '】'
            | '〖'
            | '〗'
            | '〘'
            | '〙'
            | '⦅'
            | '⦆'
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn compacts(text: &str) -> Vec<String> {
        windows([text])
            .iter()
            .map(|w| w.compact.to_string())
            .collect()
    }

    #[test]
    fn references_with_spaces_dashes_and_full_width() {
        // R-P4: spaces, dashes and full-width characters do not hide a reference.
        for text in [
            "购房款 HT-2023-017-00123 第3期",
            "HT 2023 017 00123",
            "合同号：ＨＴ－２０２３－０１７－００１２３",
            "ht2023017/00123",
        ] {
            assert!(
                compacts(text).contains(&"HT202301700123".to_string()),
                "{text}: {:?}",
                compacts(text)
            );
        }
    }

    #[test]
    fn digits_and_cut_short() {
        let w = windows(["房款2023 017 00123"]);
        assert!(w.iter().any(|w| w.digits == "202301700123"));
        assert!(w.len() > 3);
        let w = windows(["付 HT-2023-017-001"]);
        let last = w.iter().find(|w| w.compact == "HT2023017001");
        assert!(last.is_some_and(|w| w.at_end));
    }

    #[test]
    fn r_p4_bracketed_years_do_not_split_a_reference() {
        // R-P4 (issue 19): brackets, ASCII and full-width, are part of how contract and
        // document numbers are written (`HT(2024)015`, `HT〔2024〕015号`); they join the
        // pieces like a dash does.
        for (text, want) in [
            ("HT(2024)015 房款", "HT2024015"),
            ("HT〔2024〕015号", "HT2024015"),
            ("HT（2024）015", "HT2024015"),
            ("HT【2024】015", "HT2024015"),
            ("HT[2024]015", "HT2024015"),
            ("Payment for INV(2026).001", "INV2026001"),
            ("合同(HT-2024-015)", "HT2024015"),
        ] {
            assert!(
                compacts(text).contains(&want.to_string()),
                "{text}: {:?}",
                compacts(text)
            );
        }
    }

    #[test]
    fn r_p4_short_references_with_letters_and_digits_are_kept() {
        // R-P4 (issue 19): `HT-1` is a reference (letters and digits); a lone short word or
        // number is not.
        assert!(compacts("付 HT-1").contains(&"HT1".to_string()));
        assert!(compacts("No. 7A2").contains(&"7A2".to_string()));
        // Two characters are too few to be a reference even with letters and digits.
        assert!(!compacts("A1 栋").contains(&"A1".to_string()));
        assert!(!compacts("付 HT 款").contains(&"HT".to_string()));
        assert!(!compacts("123 元").contains(&"123".to_string()));
    }

    #[test]
    fn chinese_text_splits_runs() {
        let c = compacts("HT2023第3期00123");
        assert!(!c.iter().any(|c| c.contains("HT202300123")));
    }
}
