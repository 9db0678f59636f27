//! How people write references in remittance text (R-P4): exactly, without dashes, spaced,
//! in full-width characters, digits only, with a typo, cut short by the bank, or naming the
//! receivable instead of the contract.

use super::NoiseMix;
use super::rng::Rng;

/// How the reference is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RefStyle {
    Exact,
    Compact,
    Spaced,
    FullWidth,
    Digits,
    Typo,
    CutShort,
    Receivable,
    None,
}

impl RefStyle {
    pub(crate) fn label(self) -> &'static str {
        match self {
            Self::Exact => "exact",
            Self::Compact => "compact",
            Self::Spaced => "spaced",
            Self::FullWidth => "full_width",
            Self::Digits => "digits_only",
            Self::Typo => "typo",
            Self::CutShort => "cut_short",
            Self::Receivable => "receivable_named",
            Self::None => "no_reference",
        }
    }

    /// A style drawn from the mix; `none_allowed` when the payment may carry no reference.
    pub(crate) fn draw(rng: &mut Rng, mix: &NoiseMix, none_allowed: bool) -> Self {
        let none = if none_allowed { mix.no_reference } else { 0 };
        let listed = [
            (Self::Compact, mix.spaced.max(1) * 2),
            (Self::Spaced, mix.spaced),
            (Self::FullWidth, mix.full_width),
            (Self::Digits, mix.digits_only),
            (Self::Typo, mix.typo),
            (Self::CutShort, mix.cut_short),
            (Self::Receivable, mix.receivable_named),
            (Self::None, none),
        ];
        let used: u32 = listed.iter().map(|(_, w)| *w).sum();
        let mut all = listed.to_vec();
        all.push((Self::Exact, 10_000u32.saturating_sub(used).max(1)));
        rng.weighted(&all).unwrap_or(Self::Exact)
    }
}

fn full_width(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '!'..='~' => char::from_u32(u32::from(c) + 0xFEE0).unwrap_or(c),
            ' ' => '\u{3000}',
            _ => c,
        })
        .collect()
}

/// One typo among the last nine digits: a wrong digit, two neighbours swapped, one digit
/// missing or one extra.
fn typo(rng: &mut Rng, s: &str) -> String {
    let mut chars: Vec<char> = s.chars().collect();
    let digit_positions: Vec<usize> = chars
        .iter()
        .enumerate()
        .filter(|(_, c)| c.is_ascii_digit())
        .map(|(i, _)| i)
        .collect();
    let tail = digit_positions.len().saturating_sub(9);
    let Some(&at) = rng.pick(digit_positions.get(tail..).unwrap_or_default()) else {
        return s.to_string();
    };
    match rng.weighted(&[(0, 50), (1, 25), (2, 15), (3, 10)]) {
        Some(1) => {
            let next = digit_positions.iter().copied().find(|p| *p > at);
            match next {
                Some(n) if chars.get(n) != chars.get(at) => chars.swap(at, n),
                _ => return typo(rng, s),
            }
        }
        Some(2) => {
            chars.remove(at);
        }
        Some(3) => {
            let d = char::from(b'0' + u8::try_from(rng.below(10)).unwrap_or(0));
            chars.insert(at, d);
        }
        _ => {
            let old = chars.get(at).copied().unwrap_or('0');
            let mut d = old;
            while d == old {
                d = char::from(b'0' + u8::try_from(rng.below(10)).unwrap_or(0));
            }
            if let Some(c) = chars.get_mut(at) {
                *c = d;
            }
        }
    }
    chars.into_iter().collect()
}

/// The reference text for a contract number (or the receivable ids it pays).
pub(crate) fn reference(
    rng: &mut Rng,
    style: RefStyle,
    contract: &str,
    receivables: &[String],
) -> Option<String> {
    let r = match style {
        RefStyle::Exact => contract.to_string(),
        RefStyle::Compact => contract.replace('-', ""),
        RefStyle::Spaced => contract.replace('-', " ").to_lowercase(),
        RefStyle::FullWidth => full_width(contract),
        RefStyle::Digits => contract.chars().filter(char::is_ascii_digit).collect(),
        RefStyle::Typo => typo(rng, contract),
        RefStyle::CutShort => {
            let cut = 1 + rng.index(2);
            contract
                .chars()
                .take(contract.chars().count().saturating_sub(cut))
                .collect()
        }
        RefStyle::Receivable => receivables.join(" "),
        RefStyle::None => return None,
    };
    Some(r)
}

/// A remittance text around the reference. A cut-short reference ends the text.
pub(crate) fn remittance(
    rng: &mut Rng,
    reference: Option<&str>,
    style: RefStyle,
    installment: usize,
    fee: bool,
    unit: Option<&str>,
) -> Option<String> {
    let unit_text = match unit {
        Some(u) if rng.chance(if fee { 4000 } else { 1000 }) => format!("{u}室 "),
        _ => String::new(),
    };
    let Some(r) = reference else {
        let plain = if fee {
            &["物业费", "管理费", "转账", ""][..]
        } else {
            &["购房款", "房款", "转账", ""][..]
        };
        let t = format!("{unit_text}{}", rng.pick(plain).copied().unwrap_or(""));
        let t = t.trim().to_string();
        return (!t.is_empty()).then_some(t);
    };
    if style == RefStyle::CutShort {
        let lead = if fee { "物业费 " } else { "购房款 " };
        return Some(format!("{unit_text}{lead}{r}"));
    }
    let n = installment;
    let text = if fee {
        match rng.below(4) {
            0 => format!("物业费 {r}"),
            1 => format!("{r} 物业管理费"),
            2 => format!("{unit_text}物业费 {r}"),
            _ => r.to_string(),
        }
    } else {
        match rng.below(6) {
            0 => format!("购房款 {r}"),
            1 => format!("{r} 第{n}期房款"),
            2 => format!("房款{r}"),
            3 => format!("Payment {r} inst {n}"),
            4 => format!("{unit_text}{r} 分期款"),
            _ => r.to_string(),
        }
    };
    Some(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn styles() {
        let mut rng = Rng::new(3);
        let c = "HT-2023-017-00123";
        let ids = vec!["HT-2023-017-00123-01".to_string()];
        assert_eq!(
            reference(&mut rng, RefStyle::Digits, c, &ids).as_deref(),
            Some("202301700123")
        );
        assert_eq!(
            reference(&mut rng, RefStyle::FullWidth, c, &ids).as_deref(),
            Some("ＨＴ－２０２３－０１７－００１２３")
        );
        for _ in 0..50 {
            let t = reference(&mut rng, RefStyle::Typo, c, &ids).unwrap_or_default();
            assert_ne!(t, c);
            let d: String = t.chars().filter(char::is_ascii_digit).collect();
            assert_eq!(
                crate::text::osa_distance(d.as_bytes(), b"202301700123", 1),
                Some(1),
                "{t}"
            );
        }
    }
}
