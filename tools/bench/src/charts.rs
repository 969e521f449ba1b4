//! PNG charts of a run: throughput and latency percentiles against load.
//!
//! Drawn with plotters' bitmap backend; text uses an embedded DejaVu Sans
//! Mono through plotters' `ab_glyph` feature, so no system font, fontconfig
//! or freetype is needed. Coordinates are integers (the workspace keeps
//! floats out of arithmetic): the x axis is the load step's index, labelled
//! with the step.

use std::path::{Path, PathBuf};
use std::sync::Once;

use plotters::coord::Shift;
use plotters::coord::types::{RangedCoordi32, RangedCoordu64};
use plotters::prelude::*;

use crate::load::LatencySummary;
use crate::report::Results;

static FONT: &[u8] = include_bytes!("../assets/DejaVuSansMono.ttf");
const FAMILY: &str = "sans-serif";

fn register_font() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        if plotters::style::register_font(FAMILY, FontStyle::Normal, FONT).is_err() {
            eprintln!("warning: the embedded chart font did not load; charts have no text");
        }
    });
}

/// One step of a load sweep.
#[derive(Debug, Clone)]
pub struct Point {
    pub label: String,
    pub per_sec: u64,
    pub latency: LatencySummary,
}

fn err<E: std::fmt::Display>(e: E) -> anyhow::Error {
    anyhow::anyhow!("drawing a chart: {e}")
}

/// Rounds a chart's top up, leaving a tenth of headroom.
fn top(max: u64) -> u64 {
    (max + max / 10).max(10)
}

fn x_range(points: &[Point]) -> std::ops::Range<i32> {
    -1..i32::try_from(points.len()).unwrap_or(i32::MAX)
}

fn xy(points: &[Point], value: impl Fn(&Point) -> u64) -> Vec<(i32, u64)> {
    points
        .iter()
        .enumerate()
        .map(|(i, p)| (i32::try_from(i).unwrap_or(0), value(p)))
        .collect()
}

/// The x axis both halves of a sweep chart share: the load steps.
struct Axes<'p> {
    points: &'p [Point],
    x_desc: &'p str,
    label_of: &'p dyn Fn(&i32) -> String,
}

type Panel<'a, 'b> =
    ChartContext<'a, BitMapBackend<'b>, Cartesian2d<RangedCoordi32, RangedCoordu64>>;

impl Axes<'_> {
    /// A half of the chart on `area`: the load steps across, `0..top(max)`
    /// up, the mesh drawn.
    fn panel<'a, 'b>(
        &self,
        area: &'a DrawingArea<BitMapBackend<'b>, Shift>,
        caption: &str,
        max: u64,
        y_desc: &str,
    ) -> anyhow::Result<Panel<'a, 'b>> {
        let mut chart = ChartBuilder::on(area)
            .margin(16)
            .caption(caption, (FAMILY, 18))
            .x_label_area_size(44)
            .y_label_area_size(72)
            .build_cartesian_2d(x_range(self.points), 0u64..top(max))
            .map_err(err)?;
        chart
            .configure_mesh()
            .x_labels(self.points.len() + 2)
            .x_label_formatter(self.label_of)
            .x_desc(self.x_desc)
            .y_desc(y_desc)
            .label_style((FAMILY, 14))
            .draw()
            .map_err(err)?;
        Ok(chart)
    }
}

/// A latency line: its name, colour and value (ms) at a point.
type Percentile = (&'static str, RGBColor, fn(&Point) -> u64);

/// Throughput (left) and latency p50/p95/p99 in ms (right) against the
/// load steps, in one PNG.
pub fn sweep(
    path: &Path,
    title: &str,
    x_desc: &str,
    unit: &str,
    points: &[Point],
) -> anyhow::Result<()> {
    register_font();
    let root = BitMapBackend::new(path, (1280, 520)).into_drawing_area();
    root.fill(&WHITE).map_err(err)?;
    let root = root.titled(title, (FAMILY, 22)).map_err(err)?;
    let (left, right) = root.split_horizontally(640);
    let labels: Vec<String> = points.iter().map(|p| p.label.clone()).collect();
    let label_of = |i: &i32| {
        usize::try_from(*i)
            .ok()
            .and_then(|i| labels.get(i).cloned())
            .unwrap_or_default()
    };

    let max_rate = points.iter().map(|p| p.per_sec).max().unwrap_or(0);
    let axes = Axes {
        points,
        x_desc,
        label_of: &label_of,
    };
    let caption = format!("throughput ({unit}/s)");
    let mut chart = axes.panel(&left, &caption, max_rate, &format!("{unit}/s"))?;
    chart
        .draw_series(LineSeries::new(xy(points, |p| p.per_sec), BLUE.stroke_width(3)).point_size(5))
        .map_err(err)?;

    let max_ms = points
        .iter()
        .map(|p| p.latency.p99_us / 1000)
        .max()
        .unwrap_or(0);
    let mut chart = axes.panel(&right, "latency (ms)", max_ms, "ms")?;
    let series: [Percentile; 3] = [
        ("p50", GREEN, |p| p.latency.p50_us / 1000),
        ("p95", BLUE, |p| p.latency.p95_us / 1000),
        ("p99", RED, |p| p.latency.p99_us / 1000),
    ];
    for (name, color, value) in series {
        chart
            .draw_series(LineSeries::new(xy(points, value), color.stroke_width(3)).point_size(5))
            .map_err(err)?
            .label(name)
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 24, y)], color.stroke_width(3))
            });
    }
    chart
        .configure_series_labels()
        .label_font((FAMILY, 14))
        .background_style(WHITE)
        .border_style(BLACK)
        .position(SeriesLabelPosition::UpperLeft)
        .draw()
        .map_err(err)?;
    root.present().map_err(err)?;
    Ok(())
}

/// One load sweep of a run, as a chart: its file, title, x axis and unit.
struct SweepChart {
    file: &'static str,
    title: &'static str,
    x_desc: &'static str,
    unit: &'static str,
    points: Vec<Point>,
}

/// Every chart of a run, into `dir`; the files written. A sweep the run
/// skipped has no points and no chart.
pub fn draw_all(dir: &Path, results: &Results) -> anyhow::Result<Vec<PathBuf>> {
    let point = |label: String, per_sec: u64, latency: LatencySummary| Point {
        label,
        per_sec,
        latency,
    };
    let charts = [
        SweepChart {
            file: "http-commands.png",
            title: "Commands over HTTP (deposits and withdrawals)",
            x_desc: "concurrent clients",
            unit: "commands",
            points: (results.http.iter())
                .map(|l| point(l.clients.to_string(), l.per_sec, l.latency))
                .collect(),
        },
        SweepChart {
            file: "command-to-visible.png",
            title: "Command -> visible in the read model",
            x_desc: "offered load (% of max HTTP commands/s)",
            unit: "commands",
            points: (results.visible.iter())
                .map(|l| {
                    point(
                        format!("{}%", l.offered.percent),
                        l.achieved_per_sec,
                        l.command_to_visible,
                    )
                })
                .collect(),
        },
        SweepChart {
            file: "transfers.png",
            title: "Transfers end to end (POST -> terminal status in the view)",
            x_desc: "offered load (% of max HTTP commands/s)",
            unit: "transfers",
            points: (results.transfers.iter())
                .map(|l| point(format!("{}%", l.offered.percent), l.per_sec, l.end_to_end))
                .collect(),
        },
    ];
    let mut written = Vec::new();
    for chart in charts.iter().filter(|chart| !chart.points.is_empty()) {
        let path = dir.join(chart.file);
        sweep(&path, chart.title, chart.x_desc, chart.unit, &chart.points)?;
        written.push(path);
    }
    Ok(written)
}
