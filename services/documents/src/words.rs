//! Amounts in Chinese capital numerals (大写金额), as receipts and cheques print them next to
//! the figures so that neither can be altered alone: `12345.67` → 壹万贰仟叁佰肆拾伍元陆角柒分.

use rust_decimal::Decimal;

const DIGITS: [char; 10] = ['零', '壹', '贰', '叁', '肆', '伍', '陆', '柒', '捌', '玖'];
/// Places within a group of four digits: thousands, hundreds, tens, units.
const PLACES: [&str; 4] = ["仟", "佰", "拾", ""];
/// Groups of four digits from the lowest: units, 万 (10⁴), 亿 (10⁸).
const GROUPS: [&str; 3] = ["", "万", "亿"];

/// The amount in yuan as capital numerals, rounded to the fen (half away from zero); `None`
/// when it is negative or 10¹² yuan (一万亿) or more.
pub fn rmb_in_words(amount: Decimal) -> Option<String> {
    if amount.is_sign_negative() {
        return None;
    }
    let fen = (amount * Decimal::ONE_HUNDRED)
        .round_dp_with_strategy(0, rust_decimal::RoundingStrategy::MidpointAwayFromZero);
    let fen = u128::try_from(fen).ok()?;
    let yuan = fen / 100;
    if yuan >= 10_u128.pow(12) {
        return None;
    }
    let (jiao, fen) = ((fen / 10 % 10) as usize, (fen % 10) as usize);
    let mut out = String::new();
    if yuan > 0 {
        out.push_str(&integer(yuan));
        out.push('元');
    }
    match (jiao, fen) {
        (0, 0) => {
            if yuan == 0 {
                out.push_str("零元");
            }
            out.push('整');
        }
        (0, f) => {
            if yuan > 0 {
                out.push('零');
            }
            out.push(DIGITS[f]);
            out.push('分');
        }
        (j, 0) => {
            out.push(DIGITS[j]);
            out.push_str("角整");
        }
        (j, f) => {
            out.push(DIGITS[j]);
            out.push('角');
            out.push(DIGITS[f]);
            out.push('分');
        }
    }
    Some(out)
}

/// A positive whole number below 10¹² in capital numerals: one 零 for every run of zeros
/// between non-zero digits, none at the end of a group.
fn integer(n: u128) -> String {
    let mut groups = Vec::new();
    let mut rest = n;
    while rest > 0 {
        groups.push((rest % 10_000) as usize);
        rest /= 10_000;
    }
    let mut out = String::new();
    let mut zero_pending = false;
    for (index, &group) in groups.iter().enumerate().rev() {
        if group == 0 {
            zero_pending = !out.is_empty();
            continue;
        }
        let digits = [group / 1000, group / 100 % 10, group / 10 % 10, group % 10];
        for (place, &d) in digits.iter().enumerate() {
            if d == 0 {
                zero_pending = !out.is_empty();
                continue;
            }
            if zero_pending {
                out.push('零');
                zero_pending = false;
            }
            out.push(DIGITS[d]);
            out.push_str(PLACES[place]);
        }
        out.push_str(GROUPS[index]);
        // Zeros at the end of a group are only spoken when a digit follows.
        zero_pending = false;
        if digits[3] == 0 && index > 0 {
            zero_pending = true;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn words(s: &str) -> String {
        rmb_in_words(Decimal::from_str(s).unwrap()).unwrap()
    }

    #[test]
    fn amounts_read_as_banks_print_them() {
        assert_eq!(words("12345.67"), "壹万贰仟叁佰肆拾伍元陆角柒分");
        assert_eq!(words("0"), "零元整");
        assert_eq!(words("0.05"), "伍分");
        assert_eq!(words("0.50"), "伍角整");
        assert_eq!(words("1"), "壹元整");
        assert_eq!(words("10"), "壹拾元整");
        assert_eq!(words("100.01"), "壹佰元零壹分");
        assert_eq!(words("1005"), "壹仟零伍元整");
        assert_eq!(words("10050"), "壹万零伍拾元整");
        assert_eq!(words("100000"), "壹拾万元整");
        assert_eq!(words("1000001"), "壹佰万零壹元整");
        assert_eq!(words("100000000"), "壹亿元整");
        assert_eq!(words("120000300.40"), "壹亿贰仟万零叁佰元肆角整");
        assert_eq!(words("3000000.10"), "叁佰万元壹角整");
    }

    #[test]
    fn out_of_range_amounts_are_refused() {
        assert!(rmb_in_words(Decimal::from(-1)).is_none());
        assert!(rmb_in_words(Decimal::from_str("1000000000000").unwrap()).is_none());
    }

    proptest::proptest! {
        /// Every digit that is not zero is printed once, so the words carry the figure: read
        /// back, they give the amount.
        #[test]
        fn words_read_back_to_the_amount(fen in 0u64..100_000_000_000_000) {
            let amount = Decimal::new(fen as i64, 2);
            let text = rmb_in_words(amount).unwrap();
            proptest::prop_assert_eq!(read_back(&text), fen as u128, "{} → {}", amount, text);
        }
    }

    /// Parses capital numerals back to fen (test only).
    fn read_back(text: &str) -> u128 {
        let mut total: u128 = 0;
        let mut section: u128 = 0;
        let mut digit: u128 = 0;
        let mut yuan: u128 = 0;
        let mut fen: u128 = 0;
        for c in text.chars() {
            if let Some(d) = DIGITS.iter().position(|&x| x == c) {
                digit = d as u128;
                continue;
            }
            match c {
                '拾' => {
                    section += digit * 10;
                    digit = 0;
                }
                '佰' => {
                    section += digit * 100;
                    digit = 0;
                }
                '仟' => {
                    section += digit * 1000;
                    digit = 0;
                }
                '万' => {
                    section += digit;
                    digit = 0;
                    total += section * 10_000;
                    section = 0;
                }
                '亿' => {
                    section += digit;
                    digit = 0;
                    total += section * 100_000_000;
                    section = 0;
                }
                '元' => {
                    yuan = total + section + digit;
                    total = 0;
                    section = 0;
                    digit = 0;
                }
                '角' => {
                    fen += digit * 10;
                    digit = 0;
                }
                '分' => {
                    fen += digit;
                    digit = 0;
                }
                _ => {}
            }
        }
        yuan * 100 + fen
    }
}
