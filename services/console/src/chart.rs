//! Charts as inline SVG rendered on the server: no JavaScript, no chart library, and the
//! arithmetic in `Decimal` like everything else that touches money (a pixel is the only thing
//! rounded, to a whole number).

use maud::{Markup, html};
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive as _;

/// Plot area height in pixels.
const PLOT_HEIGHT: i64 = 180;
/// Space above the plot and below it (for category labels).
const TOP: i64 = 16;
const BOTTOM: i64 = 40;
/// Space left of the plot for the axis labels.
const LEFT: i64 = 72;
/// Width of one category.
const GROUP: i64 = 64;

/// One series of values, one per category (`None` where there is no value, e.g. a KPI whose
/// denominator is zero).
#[derive(Debug, Clone)]
pub struct Series {
    /// Shown in the legend.
    pub name: String,
    /// One per category.
    pub values: Vec<Option<Decimal>>,
}

/// Maps values to vertical pixel positions: `hi` at the top of the plot, `lo` at its bottom.
/// The range always includes zero, so bars start at a zero baseline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scale {
    /// The smallest value shown (zero or below).
    pub lo: Decimal,
    /// The largest value shown (zero or above, and above `lo`).
    pub hi: Decimal,
}

impl Scale {
    /// A scale covering every value and zero.
    pub fn covering<'a>(values: impl IntoIterator<Item = &'a Decimal>) -> Self {
        let (mut lo, mut hi) = (Decimal::ZERO, Decimal::ZERO);
        for v in values {
            lo = lo.min(*v);
            hi = hi.max(*v);
        }
        if hi == lo {
            // Nothing but zeros: any positive range draws them on the baseline.
            hi = lo + Decimal::ONE;
        }
        Self { lo, hi }
    }

    /// The y pixel of `value` (0 is the top of the SVG).
    pub fn y(&self, value: Decimal) -> i64 {
        let share = (self.hi - value) / (self.hi - self.lo);
        TOP + (share * Decimal::from(PLOT_HEIGHT))
            .round()
            .to_i64()
            .unwrap_or(0)
            .clamp(0, PLOT_HEIGHT)
    }

    /// The y pixel of the zero line.
    pub fn baseline(&self) -> i64 {
        self.y(Decimal::ZERO)
    }
}

fn width(categories: usize) -> i64 {
    LEFT + GROUP * i64::try_from(categories.max(1)).unwrap_or(1) + 16
}

fn label(value: Decimal) -> String {
    value.round_dp(2).normalize().to_string()
}

fn axis(scale: &Scale, w: i64) -> Markup {
    let base = scale.baseline();
    html! {
        line.axis x1=(LEFT) y1=(base) x2=(w - 8) y2=(base) {}
        text.tick x=(LEFT - 6) y=(TOP + 4) text-anchor="end" { (label(scale.hi)) }
        @if scale.lo < Decimal::ZERO {
            text.tick x=(LEFT - 6) y=(TOP + PLOT_HEIGHT) text-anchor="end" { (label(scale.lo)) }
        }
        text.tick x=(LEFT - 6) y=(base + 4) text-anchor="end" { "0" }
    }
}

fn legend(series: &[Series]) -> Markup {
    html! {
        @if series.len() > 1 {
            ul.legend {
                @for (i, s) in series.iter().enumerate() {
                    li { span class=(format!("swatch s{i}")) {} (s.name) }
                }
            }
        }
    }
}

/// A bar chart: one group per category, one bar per series.
pub fn bars(title: &str, categories: &[String], series: &[Series]) -> Markup {
    let scale = Scale::covering(series.iter().flat_map(|s| s.values.iter().flatten()));
    let w = width(categories.len());
    let h = TOP + PLOT_HEIGHT + BOTTOM;
    let n = i64::try_from(series.len().max(1)).unwrap_or(1);
    let bar = (GROUP - 16) / n;
    let base = scale.baseline();
    html! {
        figure.chart {
            svg role="img" aria-label=(title) viewBox=(format!("0 0 {w} {h}")) width=(w) height=(h) {
                title { (title) }
                (axis(&scale, w))
                @for (c, category) in categories.iter().enumerate() {
                    @let x0 = LEFT + GROUP * i64::try_from(c).unwrap_or(0) + 8;
                    @for (i, s) in series.iter().enumerate() {
                        @if let Some(Some(v)) = s.values.get(c) {
                            @let y = scale.y(*v);
                            rect class=(format!("bar s{i}")) x=(x0 + bar * i64::try_from(i).unwrap_or(0)) y=(y.min(base)) width=(bar - 2) height=((y - base).abs())
                                data-value=(v.to_string()) {
                                title { (s.name) " " (category) ": " (v.to_string()) }
                            }
                        }
                    }
                    text.cat x=(x0 + (GROUP - 16) / 2) y=(TOP + PLOT_HEIGHT + 16) text-anchor="middle" { (category) }
                }
            }
            (legend(series))
        }
    }
}

/// The `d` of an SVG path through the points, a new segment after every gap.
pub fn line_path(scale: &Scale, values: &[Option<Decimal>]) -> String {
    let mut d = String::new();
    let mut pen_down = false;
    for (c, value) in values.iter().enumerate() {
        match value {
            Some(v) => {
                let x = LEFT + GROUP * i64::try_from(c).unwrap_or(0) + GROUP / 2;
                let y = scale.y(*v);
                if !d.is_empty() {
                    d.push(' ');
                }
                d.push_str(&format!("{} {x} {y}", if pen_down { "L" } else { "M" }));
                pen_down = true;
            }
            None => pen_down = false,
        }
    }
    d
}

/// A line chart: one line per series, a dot per value.
pub fn lines(title: &str, categories: &[String], series: &[Series]) -> Markup {
    let scale = Scale::covering(series.iter().flat_map(|s| s.values.iter().flatten()));
    let w = width(categories.len());
    let h = TOP + PLOT_HEIGHT + BOTTOM;
    html! {
        figure.chart {
            svg role="img" aria-label=(title) viewBox=(format!("0 0 {w} {h}")) width=(w) height=(h) {
                title { (title) }
                (axis(&scale, w))
                @for (i, s) in series.iter().enumerate() {
                    path class=(format!("line s{i}")) d=(line_path(&scale, &s.values)) {}
                    @for (c, value) in s.values.iter().enumerate() {
                        @if let Some(v) = value {
                            circle class=(format!("dot s{i}")) cx=(LEFT + GROUP * i64::try_from(c).unwrap_or(0) + GROUP / 2) cy=(scale.y(*v)) r="3" data-value=(v.to_string()) {
                                title { (s.name) ": " (v.to_string()) }
                            }
                        }
                    }
                }
                @for (c, category) in categories.iter().enumerate() {
                    text.cat x=(LEFT + GROUP * i64::try_from(c).unwrap_or(0) + GROUP / 2) y=(TOP + PLOT_HEIGHT + 16) text-anchor="middle" { (category) }
                }
            }
            (legend(series))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(text: &str) -> Decimal {
        text.parse().unwrap()
    }

    #[test]
    fn the_scale_puts_the_largest_value_on_top_and_zero_at_the_bottom() {
        let scale = Scale::covering(&[d("100"), d("25"), d("50")]);
        assert_eq!(scale.y(d("100")), TOP);
        assert_eq!(scale.baseline(), TOP + PLOT_HEIGHT);
        // A quarter of the range is a quarter of the height above the baseline.
        assert_eq!(scale.baseline() - scale.y(d("25")), PLOT_HEIGHT / 4);
        assert_eq!(scale.baseline() - scale.y(d("50")), PLOT_HEIGHT / 2);
    }

    #[test]
    fn all_zero_values_do_not_divide_by_zero() {
        let scale = Scale::covering(&[Decimal::ZERO, Decimal::ZERO]);
        assert_eq!(scale.y(Decimal::ZERO), TOP + PLOT_HEIGHT);
        let empty = Scale::covering(&[]);
        assert_eq!(empty.baseline(), TOP + PLOT_HEIGHT);
    }

    #[test]
    fn negative_values_go_below_the_zero_line() {
        // A provision released: the change is negative.
        let scale = Scale::covering(&[d("30"), d("-10")]);
        assert_eq!(scale.y(d("30")), TOP);
        assert_eq!(scale.y(d("-10")), TOP + PLOT_HEIGHT);
        assert_eq!(scale.baseline(), TOP + 135);
    }

    #[test]
    fn money_amounts_keep_their_proportions_exactly() {
        // 1/3 of the height, rounded to the pixel: 60 of 180.
        let scale = Scale::covering(&[d("30000.00"), d("10000.00")]);
        assert_eq!(scale.baseline() - scale.y(d("10000.00")), 60);
        // A fen does not move a pixel, but never moves the bar past the baseline.
        assert_eq!(scale.y(d("0.01")), scale.baseline());
    }

    #[test]
    fn a_line_breaks_where_a_value_is_missing() {
        let scale = Scale::covering(&[d("10")]);
        let path = line_path(&scale, &[Some(d("10")), Some(d("0")), None, Some(d("5"))]);
        let moves = path.matches('M').count();
        assert_eq!(moves, 2, "{path}");
        assert!(
            path.starts_with(&format!("M {} {}", LEFT + GROUP / 2, TOP)),
            "{path}"
        );
        assert_eq!(line_path(&scale, &[None, None]), "");
    }

    #[test]
    fn bars_are_drawn_from_the_baseline_with_their_values_and_escaped_labels() {
        let svg = bars(
            "aging <x>",
            &["1–30".to_owned(), "<script>".to_owned()],
            &[Series {
                name: "CNY".to_owned(),
                values: vec![Some(d("200")), Some(d("100"))],
            }],
        )
        .into_string();
        assert_eq!(svg.matches("<rect").count(), 2, "{svg}");
        assert!(
            svg.contains(&format!("height=\"{}\"", PLOT_HEIGHT)),
            "{svg}"
        );
        assert!(
            svg.contains(&format!("height=\"{}\"", PLOT_HEIGHT / 2)),
            "{svg}"
        );
        assert!(svg.contains("data-value=\"200\""));
        assert!(!svg.contains("<script>"), "labels are escaped: {svg}");
        assert!(svg.contains("&lt;script&gt;"));
    }
}
