//! Server-rendered charts: geometry computed here, drawn by an askama template.
//! Labels and numbers are HTML text, sized in CSS pixels like the rest of the
//! page, so they stay readable however narrow the screen; SVG draws only the
//! bars, which may stretch. Each chart has a name, a one-sentence summary and a
//! plain table beside it. No JavaScript, no fonts to load, no third-party requests.

use chrono::NaiveDate;

/// One bar of a bar list.
#[derive(Debug, Clone)]
pub struct Bar {
    pub label: String,
    pub value: i64,
    /// Its share of the chart's whole ("60 %"), where the chart has shares.
    pub share: Option<String>,
    /// Length in percent of the longest bar (0–100).
    pub length: f64,
}

impl Bar {
    /// The number beside the bar, with its share where there is one.
    pub fn shown(&self) -> String {
        match &self.share {
            Some(share) => format!("{} ({share})", self.value),
            None => self.value.to_string(),
        }
    }
}

/// A horizontal bar list: a label, a bar and a number per row.
#[derive(Debug, Clone)]
pub struct BarChart {
    /// Unique in the page, for `aria-labelledby`.
    pub id: String,
    pub title: String,
    /// The text alternative: the chart in one sentence, read after its title.
    pub summary: String,
    pub label_heading: String,
    pub value_heading: String,
    /// The table's heading for the shares, where the chart has them.
    pub share_heading: Option<String>,
    pub bars: Vec<Bar>,
}

/// A nonzero value still gets a visible bar, however small beside the longest.
const SHORTEST_BAR: f64 = 0.5;

/// `part` of `whole` in whole percent, as the dashboard shows shares; a part
/// that is neither none nor all never rounds to 0 % or 100 %.
pub fn percent(part: i64, whole: i64) -> String {
    if whole <= 0 {
        return "—".to_owned();
    }
    let share = (part as f64 * 100.0 / whole as f64).round();
    match share {
        s if s < 1.0 && part > 0 => "<1 %".to_owned(),
        s if s > 99.0 && part < whole => ">99 %".to_owned(),
        s => format!("{s} %"),
    }
}

/// Two decimals are plenty for SVG geometry and keep the markup short.
fn round(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

impl BarChart {
    pub fn new(id: &str, title: &str, headings: (&str, &str), rows: Vec<(String, i64)>) -> Self {
        let max = rows.iter().map(|(_, v)| *v).max().unwrap_or(0).max(1) as f64;
        let bars: Vec<Bar> = rows
            .into_iter()
            .map(|(label, value)| Bar {
                label,
                value,
                share: None,
                length: if value > 0 {
                    round((value as f64 / max * 100.0).max(SHORTEST_BAR))
                } else {
                    0.0
                },
            })
            .collect();
        let summary = summarise(&bars);
        Self {
            id: id.to_owned(),
            title: title.to_owned(),
            summary,
            label_heading: headings.0.to_owned(),
            value_heading: headings.1.to_owned(),
            share_heading: None,
            bars,
        }
    }

    /// Replaces the generic summary with one written for this chart.
    pub fn with_summary(mut self, summary: String) -> Self {
        self.summary = summary;
        self
    }

    /// Shows each value's share of `whole` beside it, under `heading` in the table.
    pub fn with_shares(mut self, heading: &str, whole: i64) -> Self {
        for bar in &mut self.bars {
            bar.share = Some(percent(bar.value, whole));
        }
        self.share_heading = Some(heading.to_owned());
        self
    }

    pub fn is_empty(&self) -> bool {
        self.bars.is_empty()
    }
}

/// What a chart with nothing to draw says.
pub const NO_DATA: &str = "There is no data yet.";

fn summarise(bars: &[Bar]) -> String {
    let total: i64 = bars.iter().map(|b| b.value).sum();
    // The first of the largest: rows come in a meaningful order.
    let top = bars.iter().rev().max_by_key(|b| b.value);
    match top {
        Some(top) if total > 0 => format!(
            "{} rows, {total} in all; the largest is {} with {}.",
            bars.len(),
            top.label,
            top.value
        ),
        _ => NO_DATA.to_owned(),
    }
}

/// One week's numbers, as counted by the dashboard.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WeekCounts {
    pub monday: NaiveDate,
    pub signups: i64,
    pub confirmations: i64,
    pub departures: i64,
    /// Members at the end of the week.
    pub members: i64,
}

/// A column of the weekly chart: a week's numbers and where they are drawn.
#[derive(Debug, Clone)]
pub struct WeekColumn {
    pub counts: WeekCounts,
    /// `2026-W48`.
    pub iso_week: String,
    /// `23 Nov 2026`, the week's Monday.
    pub starts: String,
    pub x: f64,
    pub signups: Span,
    pub confirmations: Span,
    pub departures: Span,
    pub members: Span,
}

/// Where a column's bar starts and how tall it is, in the drawing's units.
#[derive(Debug, Clone, Copy, Default)]
pub struct Span {
    pub y: f64,
    pub height: f64,
}

/// Per week: signups and confirmations above a line, departures below it on
/// the same scale; and a second drawing of members at each week's end.
#[derive(Debug, Clone)]
pub struct WeeklyChart {
    pub id: String,
    pub title: String,
    pub summary: String,
    pub weeks: Vec<WeekColumn>,
    /// The drawings' width: [`WEEK_WIDTH`] per week (the height is 100).
    pub width: f64,
    /// Where the line between gains and departures is drawn.
    pub axis_y: f64,
    /// The tallest number above the line, and the most members: the scales.
    pub peak: i64,
    pub members_peak: i64,
}

/// Units across per week; each drawing is 100 units tall and stretches to the page.
pub const WEEK_WIDTH: f64 = 10.0;
const HEIGHT: f64 = 100.0;
/// A nonzero count still gets a visible column.
const SHORTEST_COLUMN: f64 = 1.5;

fn column(value: i64, scale: f64) -> f64 {
    if value > 0 {
        round((value as f64 * scale).max(SHORTEST_COLUMN))
    } else {
        0.0
    }
}

impl WeeklyChart {
    pub fn new(id: &str, title: &str, weeks: Vec<WeekCounts>) -> Self {
        let peak = weeks
            .iter()
            .map(|w| w.signups.max(w.confirmations))
            .max()
            .unwrap_or(0)
            .max(0);
        let trough = weeks.iter().map(|w| w.departures).max().unwrap_or(0).max(0);
        let scale = if peak + trough > 0 {
            HEIGHT / (peak + trough) as f64
        } else {
            0.0
        };
        let axis_y = round(if peak + trough > 0 {
            peak as f64 * scale
        } else {
            HEIGHT
        });
        let members_peak = weeks.iter().map(|w| w.members).max().unwrap_or(0).max(0);
        let members_scale = if members_peak > 0 {
            HEIGHT / members_peak as f64
        } else {
            0.0
        };
        let summary = summarise_weeks(&weeks);
        let weeks = weeks
            .into_iter()
            .enumerate()
            .map(|(i, counts)| {
                let above = |value: i64| {
                    let height = column(value, scale);
                    Span {
                        y: round(axis_y - height),
                        height,
                    }
                };
                let members = column(counts.members, members_scale);
                WeekColumn {
                    iso_week: {
                        let w = chrono::Datelike::iso_week(&counts.monday);
                        format!("{}-W{:02}", w.year(), w.week())
                    },
                    starts: counts.monday.format("%-d %b %Y").to_string(),
                    x: i as f64 * WEEK_WIDTH,
                    signups: above(counts.signups),
                    confirmations: above(counts.confirmations),
                    departures: Span {
                        y: axis_y,
                        height: column(counts.departures, scale),
                    },
                    members: Span {
                        y: round(HEIGHT - members),
                        height: members,
                    },
                    counts,
                }
            })
            .collect::<Vec<_>>();
        Self {
            id: id.to_owned(),
            title: title.to_owned(),
            summary,
            width: weeks.len().max(1) as f64 * WEEK_WIDTH,
            weeks,
            axis_y,
            peak,
            members_peak,
        }
    }

    pub fn first(&self) -> Option<&WeekColumn> {
        self.weeks.first()
    }

    pub fn last(&self) -> Option<&WeekColumn> {
        self.weeks.last()
    }
}

fn plural(n: i64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

fn summarise_weeks(weeks: &[WeekCounts]) -> String {
    let sum = |f: fn(&WeekCounts) -> i64| weeks.iter().map(f).sum::<i64>();
    let members_now = weeks.last().map_or(0, |w| w.members);
    format!(
        "The last {}: {}, {} and {}; {} now.",
        plural(weeks.len() as i64, "week", "weeks"),
        plural(sum(|w| w.signups), "signup", "signups"),
        plural(sum(|w| w.confirmations), "confirmation", "confirmations"),
        plural(sum(|w| w.departures), "member left", "members left"),
        plural(members_now, "member", "members"),
    )
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
        assert_eq!(chart.bars[0].length, 100.0);
        assert_eq!(chart.bars[1].length, 50.0);
        assert_eq!(chart.bars[2].length, 0.0);
        assert_eq!(
            chart.summary,
            "3 rows, 15 in all; the largest is AU with 10."
        );
        assert_eq!(
            BarChart::new("e", "Empty", ("a", "b"), vec![]).summary,
            NO_DATA
        );
    }

    #[test]
    fn a_small_value_beside_a_large_one_still_shows() {
        let chart = BarChart::new(
            "c",
            "Members",
            ("Country", "Members"),
            vec![("AU".into(), 10_000), ("TV".into(), 1)],
        );
        assert_eq!(chart.bars[1].length, SHORTEST_BAR);
    }

    #[test]
    fn shares_are_whole_percentages_of_the_whole() {
        let chart = BarChart::new(
            "f",
            "Funnel",
            ("Step", "Count"),
            vec![
                ("Sent".into(), 8),
                ("By link".into(), 5),
                ("By code".into(), 1),
            ],
        )
        .with_shares("Of emails sent", 8);
        let shown: Vec<String> = chart.bars.iter().map(Bar::shown).collect();
        assert_eq!(shown, ["8 (100 %)", "5 (63 %)", "1 (13 %)"]);
        assert_eq!(percent(3, 0), "—");
        assert_eq!(
            (percent(1, 202), percent(201, 202)),
            ("<1 %".into(), ">99 %".into())
        );
        assert_eq!(
            (percent(0, 202), percent(202, 202)),
            ("0 %".into(), "100 %".into())
        );
    }

    fn week(
        day: u32,
        signups: i64,
        confirmations: i64,
        departures: i64,
        members: i64,
    ) -> WeekCounts {
        WeekCounts {
            monday: NaiveDate::from_ymd_opt(2026, 11, day).unwrap(),
            signups,
            confirmations,
            departures,
            members,
        }
    }

    #[test]
    fn gains_and_departures_share_one_scale_either_side_of_the_line() {
        let chart = WeeklyChart::new(
            "w",
            "Weeks",
            vec![week(16, 3, 1, 0, 1), week(23, 0, 2, 1, 2)],
        );
        // 3 up and 1 down: the line sits three quarters of the way down.
        assert_eq!(chart.axis_y, 75.0);
        let first = &chart.weeks[0];
        assert_eq!((first.signups.y, first.signups.height), (0.0, 75.0));
        assert_eq!(first.confirmations.height, 25.0);
        let second = &chart.weeks[1];
        assert_eq!(
            (second.departures.y, second.departures.height),
            (75.0, 25.0)
        );
        assert_eq!(second.signups.height, 0.0);
        assert_eq!(second.members.height, 100.0);
        assert_eq!(first.members.height, 50.0);
        assert_eq!(second.iso_week, "2026-W48");
        assert_eq!(chart.width, 2.0 * WEEK_WIDTH);
        assert_eq!(
            chart.summary,
            "The last 2 weeks: 3 signups, 3 confirmations and 1 member left; 2 members now."
        );
    }

    #[test]
    fn weeks_with_nothing_draw_nothing() {
        let chart = WeeklyChart::new("w", "Weeks", vec![week(23, 0, 0, 0, 0)]);
        assert_eq!(chart.axis_y, 100.0);
        assert_eq!(chart.weeks[0].signups.height, 0.0);
        assert_eq!(chart.weeks[0].members.height, 0.0);
    }
}
