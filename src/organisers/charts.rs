//! Server-rendered bar charts: geometry computed here, drawn as SVG by an askama
//! template, each with a `<title>`, a text alternative and a plain table beside
//! it. No JavaScript, no fonts to load, no third-party requests.

/// Width of the drawing, in SVG units (it scales to the page).
const WIDTH: f64 = 320.0;
const LABEL_WIDTH: f64 = 135.0;
const VALUE_WIDTH: f64 = 40.0;
const ROW_HEIGHT: f64 = 22.0;
const BAR_HEIGHT: f64 = 16.0;

/// One bar, with its geometry.
#[derive(Debug, Clone)]
pub struct Bar {
    pub label: String,
    pub value: i64,
    pub y: f64,
    pub text_y: f64,
    pub width: f64,
    pub value_x: f64,
}

/// A horizontal bar chart.
#[derive(Debug, Clone)]
pub struct BarChart {
    /// Unique in the page, for `aria-labelledby`.
    pub id: String,
    pub title: String,
    /// The text alternative: the chart in one sentence.
    pub summary: String,
    pub label_heading: String,
    pub value_heading: String,
    pub bars: Vec<Bar>,
    pub width: f64,
    pub height: f64,
    pub label_width: f64,
}

impl BarChart {
    pub fn new(id: &str, title: &str, headings: (&str, &str), rows: Vec<(String, i64)>) -> Self {
        let max = rows.iter().map(|(_, v)| *v).max().unwrap_or(0).max(1) as f64;
        let bar_room = WIDTH - LABEL_WIDTH - VALUE_WIDTH;
        let bars: Vec<Bar> = rows
            .into_iter()
            .enumerate()
            .map(|(i, (label, value))| {
                let width =
                    (value.max(0) as f64 / max * bar_room).max(if value > 0 { 1.0 } else { 0.0 });
                Bar {
                    label,
                    value,
                    y: i as f64 * ROW_HEIGHT + (ROW_HEIGHT - BAR_HEIGHT) / 2.0,
                    text_y: i as f64 * ROW_HEIGHT + ROW_HEIGHT * 0.7,
                    width,
                    value_x: LABEL_WIDTH + width + 4.0,
                }
            })
            .collect();
        let summary = summarise(title, &bars);
        Self {
            id: id.to_owned(),
            title: title.to_owned(),
            summary,
            label_heading: headings.0.to_owned(),
            value_heading: headings.1.to_owned(),
            height: (bars.len().max(1) as f64) * ROW_HEIGHT,
            bars,
            width: WIDTH,
            label_width: LABEL_WIDTH,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.bars.is_empty()
    }
}

fn summarise(title: &str, bars: &[Bar]) -> String {
    if bars.is_empty() {
        return format!("{title}: no data yet.");
    }
    let total: i64 = bars.iter().map(|b| b.value).sum();
    let top = bars
        .iter()
        .max_by_key(|b| b.value)
        .map(|b| (b.label.as_str(), b.value));
    match top {
        Some((label, value)) => format!(
            "{title}: {} rows, {total} in all; the largest is {label} with {value}.",
            bars.len()
        ),
        None => format!("{title}: no data yet."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_scale_to_the_largest_value() {
        let chart = BarChart::new(
            "c",
            "Members",
            ("Country", "Members"),
            vec![("AU".into(), 10), ("NZ".into(), 5), ("FJ".into(), 0)],
        );
        assert_eq!(chart.bars[0].width, WIDTH - LABEL_WIDTH - VALUE_WIDTH);
        assert!((chart.bars[1].width - chart.bars[0].width / 2.0).abs() < 1e-9);
        assert_eq!(chart.bars[2].width, 0.0);
        assert!(chart.summary.contains("the largest is AU with 10"));
        assert_eq!(
            BarChart::new("e", "Empty", ("a", "b"), vec![]).summary,
            "Empty: no data yet."
        );
    }
}
