//! PNG charts of a run: throughput and latency percentiles against load.
//!
//! Drawn with plotters' bitmap backend; text uses an embedded DejaVu Sans
//! Mono through plotters' `ab_glyph` feature, so no system font, fontconfig
//! or freetype is needed. Coordinates are integers (the workspace keeps
//! floats out of arithmetic): the x axis is the load step's index, labelled
//! with the step.

use std::path::{Path, PathBuf};
use std::sync::Once;

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
    let mut chart = ChartBuilder::on(&left)
        .margin(16)
        .caption(format!("throughput ({unit}/s)"), (FAMILY, 18))
        .x_label_area_size(44)
        .y_label_area_size(72)
        .build_cartesian_2d(x_range(points), 0u64..top(max_rate))
        .map_err(err)?;
    chart
        .configure_mesh()
        .x_labels(points.len() + 2)
        .x_label_formatter(&label_of)
        .x_desc(x_desc)
        .y_desc(format!("{unit}/s"))
        .label_style((FAMILY, 14))
        .draw()
        .map_err(err)?;
    chart
        .draw_series(LineSeries::new(xy(points, |p| p.per_sec), BLUE.stroke_width(3)).point_size(5))
        .map_err(err)?;

    let max_ms = points
        .iter()
        .map(|p| p.latency.p99_us / 1000)
        .max()
        .unwrap_or(0);
    let mut chart = ChartBuilder::on(&right)
        .margin(16)
        .caption("latency (ms)", (FAMILY, 18))
        .x_label_area_size(44)
        .y_label_area_size(72)
        .build_cartesian_2d(x_range(points), 0u64..top(max_ms))
        .map_err(err)?;
    chart
        .configure_mesh()
        .x_labels(points.len() + 2)
        .x_label_formatter(&label_of)
        .x_desc(x_desc)
        .y_desc("ms")
        .label_style((FAMILY, 14))
        .draw()
        .map_err(err)?;
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

/// Every chart of a run, into `dir`; the files written.
pub fn draw_all(dir: &Path, results: &Results) -> anyhow::Result<Vec<PathBuf>> {
    let mut written = Vec::new();
    let http: Vec<Point> = results
        .http
        .iter()
        .map(|l| Point {
            label: l.clients.to_string(),
            per_sec: l.per_sec,
            latency: l.latency,
        })
        .collect();
    if !http.is_empty() {
        let path = dir.join("http-commands.png");
        sweep(
            &path,
            "Commands over HTTP (deposits and withdrawals)",
            "concurrent clients",
            "commands",
            &http,
        )?;
        written.push(path);
    }
    let visible: Vec<Point> = results
        .visible
        .iter()
        .map(|l| Point {
            label: format!("{}%", l.percent),
            per_sec: l.achieved_per_sec,
            latency: l.command_to_visible,
        })
        .collect();
    if !visible.is_empty() {
        let path = dir.join("command-to-visible.png");
        sweep(
            &path,
            "Command -> visible in the read model",
            "offered load (% of max HTTP commands/s)",
            "commands",
            &visible,
        )?;
        written.push(path);
    }
    let transfers: Vec<Point> = results
        .transfers
        .iter()
        .map(|l| Point {
            label: format!("{}%", l.percent),
            per_sec: l.per_sec,
            latency: l.end_to_end,
        })
        .collect();
    if !transfers.is_empty() {
        let path = dir.join("transfers.png");
        sweep(
            &path,
            "Transfers end to end (POST -> terminal status in the view)",
            "offered load (% of max HTTP commands/s)",
            "transfers",
            &transfers,
        )?;
        written.push(path);
    }
    Ok(written)
}
