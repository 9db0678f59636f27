//! Line breaking for mixed Chinese and Latin text: a line may break between any two Chinese
//! characters and at spaces between Latin words; closing punctuation (，。）) never starts a
//! line and opening punctuation (（「) never ends one. Words wider than the line are split
//! between characters. No hyphenation, no justification: notices are set ragged right.

use crate::font::Metrics;

/// One laid-out line: its text and its width in points.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Line {
    pub(crate) text: String,
    pub(crate) width: f32,
}

/// Text as the renderers print it: `\r\n` and `\r` become `\n`, tabs become spaces, and other
/// control characters (which no font draws) are dropped.
pub(crate) fn clean(text: &str) -> String {
    let text = text.replace("\r\n", "\n");
    text.chars()
        .filter_map(|c| match c {
            '\n' | '\r' => Some('\n'),
            '\t' => Some(' '),
            c if c.is_control() => None,
            c => Some(c),
        })
        .collect()
}

/// Breaks `text` into lines no wider than `max_width` points at `size` points; a `\n` in the
/// text is a forced break. Always at least one line (possibly empty).
pub(crate) fn wrap(metrics: &Metrics<'_>, text: &str, size: f32, max_width: f32) -> Vec<Line> {
    let text = clean(text);
    let mut lines = Vec::new();
    for hard in text.split('\n') {
        wrap_hard_line(metrics, hard, size, max_width, &mut lines);
    }
    lines
}

fn wrap_hard_line(m: &Metrics<'_>, text: &str, size: f32, max: f32, out: &mut Vec<Line>) {
    let mut line = String::new();
    let mut width = 0.0f32;
    let mut first = true;
    for token in tokens(text) {
        let w = m.width(&token, size);
        let is_space = token.chars().all(char::is_whitespace);
        if is_space && line.is_empty() && !first {
            continue; // a wrapped line does not start with the space it broke at
        }
        if width + w <= max {
            line.push_str(&token);
            width += w;
            continue;
        }
        if !line.is_empty() {
            out.push(finish(m, &mut line, size));
            width = 0.0;
            first = false;
            if is_space {
                continue;
            }
            if w <= max {
                line.push_str(&token);
                width = w;
                continue;
            }
        }
        // A token wider than a whole line: split it between characters.
        for c in token.chars() {
            let cw = m.glyph(c).1 * size;
            if !line.is_empty() && width + cw > max {
                out.push(finish(m, &mut line, size));
                width = 0.0;
                first = false;
            }
            line.push(c);
            width += cw;
        }
    }
    out.push(finish(m, &mut line, size));
}

fn finish(m: &Metrics<'_>, line: &mut String, size: f32) -> Line {
    let text = line.trim_end().to_string();
    line.clear();
    let width = m.width(&text, size);
    Line { text, width }
}

/// Unbreakable pieces: a Latin word, a run of spaces, or one CJK character, with closing
/// punctuation glued to what precedes it and opening punctuation to what follows.
fn tokens(text: &str) -> Vec<String> {
    let mut raw: Vec<String> = Vec::new();
    let mut word = String::new();
    for c in text.chars() {
        let space = c.is_whitespace();
        let wide = is_wide(c);
        let word_is_space = word.chars().next().is_some_and(char::is_whitespace);
        if !word.is_empty() && (wide || space != word_is_space) {
            raw.push(std::mem::take(&mut word));
        }
        if wide {
            raw.push(c.to_string());
        } else {
            word.push(c);
            if c == '-' || c == '/' {
                raw.push(std::mem::take(&mut word));
            }
        }
    }
    if !word.is_empty() {
        raw.push(word);
    }

    let mut out: Vec<String> = Vec::with_capacity(raw.len());
    let mut glue_next = false;
    for token in raw {
        let is_space = token.starts_with(char::is_whitespace);
        let closes = token.chars().next().is_some_and(no_line_start);
        match out.last_mut() {
            Some(prev)
                if !is_space && (glue_next || closes && !prev.starts_with(char::is_whitespace)) =>
            {
                prev.push_str(&token);
            }
            _ => out.push(token.clone()),
        }
        glue_next = !is_space && token.chars().last().is_some_and(no_line_end);
    }
    out
}

/// Characters set one per break opportunity: CJK ideographs, kana, Hangul, CJK and fullwidth
/// punctuation.
fn is_wide(c: char) -> bool {
    matches!(c as u32,
        0x1100..=0x11FF
        | 0x2E80..=0x9FFF
        | 0xA960..=0xA97F
        | 0xAC00..=0xD7AF
        | 0xF900..=0xFAFF
        | 0xFE30..=0xFE4F
        | 0xFF00..=0xFFEF
        | 0x2_0000..=0x3_FFFF)
}

fn no_line_start(c: char) -> bool {
    "，。、；：？！）」』》〉】〕…‥·%,.;:?!)]}’”".contains(c)
}

fn no_line_end(c: char) -> bool {
    "（「『《〈【〔([{‘“".contains(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_break_chinese_per_character_and_latin_per_word() {
        assert_eq!(
            tokens("物业费 due now"),
            ["物", "业", "费", " ", "due", " ", "now"]
        );
    }

    #[test]
    fn punctuation_stays_with_its_neighbour() {
        assert_eq!(
            tokens("逾期，请（尽快）缴纳。"),
            ["逾", "期，", "请", "（尽", "快）", "缴", "纳。"]
        );
        assert_eq!(tokens("ABC，x"), ["ABC，", "x"]);
    }

    #[test]
    fn control_characters_are_dropped_and_breaks_normalised() {
        assert_eq!(clean("a\r\nb\rc\td\u{0}e\u{7}"), "a\nb\nc de");
    }
}
