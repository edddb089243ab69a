//! Charts as hand-written inline SVG for `index.html`: bars with interval whiskers, a line
//! with its interval band, a stage funnel, Kaplan–Meier step curves with bands, and vintage
//! curves. No script and no external resource; coordinates are printed with one decimal so
//! the same table always gives the same bytes.
//!
//! A chart never carries data the page does not also show: the table beside it is its data.
//! What each header asks for is parsed in [`crate::queries::chart`].

use datafusion::arrow::record_batch::RecordBatch;

use super::Table;
use super::display::{self, MISSING, Role};
use super::html::escape;
use super::labels::{self, Lang};
use crate::queries::{Chart, ChartKind};

/// Width of every chart's coordinate system.
const WIDTH: f64 = 760.0;
/// Main series colour.
const BLUE: &str = "#1f5fa8";
/// Bar fill: lighter than the ink of the interval whiskers drawn over it.
const BAR: &str = "#6d9fd6";
/// Okabe–Ito colours (distinguishable with the common colour-vision deficiencies), then four
/// of Tol's muted colours for more groups.
const PALETTE: [&str; 12] = [
    "#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00", "#7a6a00", "#000000",
    "#882255", "#44aa99", "#999933", "#888888",
];
const GRID: &str = "#d9d9d9";
const INK: &str = "#222222";
const FONT: f64 = 12.0;

/// A drawn chart: the SVG element and the sentence that explains its marks.
pub struct Rendered {
    /// The `<svg>` element.
    pub svg: String,
    /// How to read intervals or shares, if the chart shows them.
    pub note: Option<&'static str>,
}

/// Draws one chart of a table. `id` must be unique in the page; `table_id` is the id of the
/// data table, which describes the chart for screen readers.
pub fn render(chart: &Chart, table: &Table, lang: Lang, id: &str, table_id: &str) -> Rendered {
    let mut chart = chart.clone();
    let columns: Vec<String> = table
        .batch
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect();
    // The header was checked against the planned columns; a mismatch here draws nothing.
    let usable = chart.resolve(&columns).is_ok();
    let data = Data {
        batch: &table.batch,
        role: display::role(&table.query, &chart.value),
        x_role: display::role(&table.query, &chart.x),
        lang,
    };
    let title = labels::chart_title(
        lang,
        &chart.value,
        chart.group.as_deref().unwrap_or(&chart.x),
    );
    let mut svg = Svg::default();
    let (height, note) = if !usable || data.batch.num_rows() == 0 {
        (svg.empty(lang), None)
    } else {
        match chart.kind {
            ChartKind::Bar => bars(&mut svg, &chart, &data),
            ChartKind::Line => line(&mut svg, &chart, &data),
            ChartKind::Funnel => funnel(&mut svg, &chart, &data),
            ChartKind::Step | ChartKind::Lines => curves(&mut svg, &chart, &data),
        }
    };
    let svg = format!(
        "<svg class=\"chart\" id=\"{id}\" viewBox=\"0 0 {WIDTH:.0} {height:.0}\" width=\"{WIDTH:.0}\" height=\"{height:.0}\" role=\"img\" aria-labelledby=\"{id}-title\" aria-describedby=\"{table_id}\">\n<title id=\"{id}-title\">{}</title>\n{}</svg>",
        escape(&title),
        svg.body
    );
    Rendered { svg, note }
}

/// The lower and upper interval bounds per row.
type Band = (Vec<Option<f64>>, Vec<Option<f64>>);

/// The columns of one table, read for drawing.
struct Data<'a> {
    batch: &'a RecordBatch,
    role: Role,
    x_role: Role,
    lang: Lang,
}

impl Data<'_> {
    fn numbers(&self, column: &str) -> Vec<Option<f64>> {
        let Some(array) = self.batch.column_by_name(column) else {
            return vec![None; self.batch.num_rows()];
        };
        (0..self.batch.num_rows())
            .map(|row| display::number_at(array, row).filter(|v| v.is_finite()))
            .collect()
    }

    fn labels(&self, column: &str) -> Vec<String> {
        let Some(array) = self.batch.column_by_name(column) else {
            return vec![MISSING.to_string(); self.batch.num_rows()];
        };
        (0..self.batch.num_rows())
            .map(|row| {
                let text = display::cell(array, row, Role::Dimension);
                labels::category(self.lang, column, &text).into_owned()
            })
            .collect()
    }

    fn band(&self, chart: &Chart) -> Option<Band> {
        chart
            .band
            .as_ref()
            .map(|(low, high)| (self.numbers(low), self.numbers(high)))
    }
}

/// Horizontal bars from zero, whiskers from the interval columns, value at the right.
fn bars(svg: &mut Svg, chart: &Chart, data: &Data) -> (f64, Option<&'static str>) {
    let names = data.labels(&chart.x);
    let values = data.numbers(&chart.value);
    let band = data.band(chart);
    let mut extent: Vec<f64> = vec![0.0];
    extent.extend(values.iter().flatten());
    if let Some((low, high)) = &band {
        extent.extend(low.iter().chain(high).flatten());
    }
    let left = label_width(&names);
    let (top, pitch, bar) = (8.0, 28.0, 18.0);
    let bottom = top + pitch * names.len() as f64;
    let axis = Axis::new(&extent, left, WIDTH - 84.0, data.role);
    axis.vertical_grid(svg, top, bottom);
    for (row, name) in names.iter().enumerate() {
        let middle = top + pitch * row as f64 + pitch / 2.0;
        svg.text(left - 8.0, middle + 4.0, "end", name);
        let Some(value) = values[row] else {
            svg.text(axis.at(0.0) + 6.0, middle + 4.0, "start", MISSING);
            continue;
        };
        let (from, to) = (axis.at(0.0), axis.at(value));
        svg.rect(
            from.min(to),
            middle - bar / 2.0,
            (to - from).abs(),
            bar,
            BAR,
        );
        let mut end = to.max(from);
        if let Some((low, high)) = &band
            && let (Some(low), Some(high)) = (low[row], high[row])
        {
            let (a, b) = (axis.at(low), axis.at(high));
            svg.path(
                &format!(
                    "M{} {}H{}M{} {}V{}M{} {}V{}",
                    n(a),
                    n(middle),
                    n(b),
                    n(a),
                    n(middle - 5.0),
                    n(middle + 5.0),
                    n(b),
                    n(middle - 5.0),
                    n(middle + 5.0)
                ),
                INK,
                "none",
                1.5,
            );
            end = end.max(b);
        }
        svg.text(
            end + 6.0,
            middle + 4.0,
            "start",
            &display::number(value, data.role),
        );
    }
    axis.bottom_labels(svg, bottom);
    let note = band.is_some().then_some(labels::texts(data.lang).whiskers);
    (bottom + 28.0, note)
}

/// One line over the rows in table order (months), with its interval band.
fn line(svg: &mut Svg, chart: &Chart, data: &Data) -> (f64, Option<&'static str>) {
    let names = data.labels(&chart.x);
    let values = data.numbers(&chart.value);
    let band = data.band(chart);
    let mut extent: Vec<f64> = values.iter().flatten().copied().collect();
    if let Some((low, high)) = &band {
        extent.extend(low.iter().chain(high).flatten());
    }
    let (top, bottom) = (12.0, 262.0);
    let left = 64.0;
    let y = Axis::new(&extent, bottom, top, data.role);
    y.horizontal_grid(svg, left, WIDTH - 16.0);
    let step = (WIDTH - 16.0 - left) / names.len().max(1) as f64;
    let x = |row: usize| left + step * (row as f64 + 0.5);
    if let Some((low, high)) = &band {
        let points: Vec<Option<(f64, f64, f64)>> = (0..names.len())
            .map(|row| Some((x(row), y.at(low[row]?), y.at(high[row]?))))
            .collect();
        for run in runs(&points) {
            let mut d = String::new();
            for (index, (px, _, high)) in run.iter().enumerate() {
                d.push_str(&format!(
                    "{}{} {}",
                    if index == 0 { "M" } else { "L" },
                    n(*px),
                    n(*high)
                ));
            }
            for (px, low, _) in run.iter().rev() {
                d.push_str(&format!("L{} {}", n(*px), n(*low)));
            }
            d.push('Z');
            svg.area(&d, BLUE, 0.18);
        }
    }
    let points: Vec<Option<(f64, f64)>> = values
        .iter()
        .enumerate()
        .map(|(row, value)| value.map(|v| (x(row), y.at(v))))
        .collect();
    for run in runs(&points) {
        svg.path(&polyline(&run), BLUE, "none", 2.0);
        for (px, py) in &run {
            svg.circle(*px, *py, 2.5, BLUE);
        }
    }
    let widest = names.iter().map(|s| text_width(s)).fold(0.0, f64::max) + 10.0;
    let every = ((widest / step).ceil() as usize).max(1);
    for (row, name) in names.iter().enumerate().filter(|(row, _)| row % every == 0) {
        svg.text(x(row), bottom + 18.0, "middle", name);
    }
    let note = band.is_some().then_some(labels::texts(data.lang).band);
    (bottom + 30.0, note)
}

/// Centered bars per stage in table order, with the share of the first stage.
fn funnel(svg: &mut Svg, chart: &Chart, data: &Data) -> (f64, Option<&'static str>) {
    let names = data.labels(&chart.x);
    let values = data.numbers(&chart.value);
    let largest = values.iter().flatten().fold(0.0_f64, |a, b| a.max(b.abs()));
    let first = values.first().copied().flatten();
    let left = label_width(&names);
    let right = WIDTH - 140.0;
    let center = (left + right) / 2.0;
    let (top, pitch, bar) = (8.0, 30.0, 22.0);
    for (row, name) in names.iter().enumerate() {
        let middle = top + pitch * row as f64 + pitch / 2.0;
        svg.text(left - 8.0, middle + 4.0, "end", name);
        let Some(value) = values[row] else {
            svg.text(center, middle + 4.0, "middle", MISSING);
            continue;
        };
        let width = if largest > 0.0 {
            (right - left) * value.abs() / largest
        } else {
            0.0
        };
        svg.rect(center - width / 2.0, middle - bar / 2.0, width, bar, BAR);
        let mut text = display::number(value, data.role);
        if let Some(first) = first.filter(|f| *f != 0.0) {
            text.push_str(&format!(
                " ({})",
                display::number(value / first, Role::Rate)
            ));
        }
        svg.text(right + 8.0, middle + 4.0, "start", &text);
    }
    (
        top + pitch * names.len() as f64 + 8.0,
        Some(labels::texts(data.lang).funnel_share),
    )
}

/// One curve per group over a numeric x axis: step curves (Kaplan–Meier) or lines (vintages).
fn curves(svg: &mut Svg, chart: &Chart, data: &Data) -> (f64, Option<&'static str>) {
    let xs = data.numbers(&chart.x);
    let values = data.numbers(&chart.value);
    let band = data.band(chart);
    let groups = match &chart.group {
        Some(column) => data.labels(column),
        None => vec![String::new(); xs.len()],
    };
    let mut series: Vec<(String, Vec<[f64; 4]>)> = Vec::new();
    for row in 0..xs.len() {
        let (Some(x), Some(value)) = (xs[row], values[row]) else {
            continue;
        };
        let (low, high) = match &band {
            Some((low, high)) => (low[row].unwrap_or(f64::NAN), high[row].unwrap_or(f64::NAN)),
            None => (f64::NAN, f64::NAN),
        };
        let index = match series.iter().position(|(name, _)| *name == groups[row]) {
            Some(index) => index,
            None => {
                series.push((groups[row].clone(), Vec::new()));
                series.len() - 1
            }
        };
        series[index].1.push([x, value, low, high]);
    }
    for (_, points) in &mut series {
        points.sort_by(|a, b| a[0].total_cmp(&b[0]));
    }
    let legend_height = if chart.group.is_some() {
        legend(svg, &series, 16.0, chart.kind == ChartKind::Lines)
    } else {
        0.0
    };
    let (top, bottom, left) = (legend_height + 12.0, legend_height + 272.0, 64.0);
    let all: Vec<&[f64; 4]> = series.iter().flat_map(|(_, p)| p).collect();
    let mut y_extent: Vec<f64> = all
        .iter()
        .flat_map(|p| [p[1], p[2], p[3]])
        .filter(|v| v.is_finite())
        .collect();
    if chart.kind == ChartKind::Step && y_extent.iter().all(|v| (0.0..=1.0).contains(v)) {
        y_extent.extend([0.0, 1.0]);
    }
    let mut x_extent: Vec<f64> = all.iter().map(|p| p[0]).collect();
    x_extent.push(0.0);
    let y = Axis::new(&y_extent, bottom, top, data.role);
    let x = Axis::new(&x_extent, left, WIDTH - 16.0, data.x_role);
    y.horizontal_grid(svg, left, WIDTH - 16.0);
    x.bottom_labels(svg, bottom);
    let count = series.len();
    let mut has_band = false;
    let ordered = chart.kind == ChartKind::Lines;
    let step = chart.kind == ChartKind::Step;
    // Bands first, all of them, so that no band covers another group's curve; fainter when
    // many groups overlap.
    let opacity = if count > 3 { 0.08 } else { 0.18 };
    for (index, (_, points)) in series.iter().enumerate() {
        if !step || band.is_none() || !points.iter().all(|p| p[2].is_finite() && p[3].is_finite()) {
            continue;
        }
        let upper = vertices(points, 3, step);
        let lower = vertices(points, 2, step);
        let mut d = polyline(
            &upper
                .iter()
                .map(|(px, v)| (x.at(*px), y.at(*v)))
                .collect::<Vec<_>>(),
        );
        for (px, v) in lower.iter().rev() {
            d.push_str(&format!("L{} {}", n(x.at(*px)), n(y.at(*v))));
        }
        d.push('Z');
        svg.area(&d, series_colour(index, count, ordered), opacity);
        has_band = true;
    }
    for (index, (_, points)) in series.iter().enumerate() {
        let curve: Vec<(f64, f64)> = vertices(points, 1, step)
            .iter()
            .map(|(px, v)| (x.at(*px), y.at(*v)))
            .collect();
        let colour = series_colour(index, count, ordered);
        svg.path(&polyline(&curve), colour, "none", 2.0);
    }
    if series.is_empty() {
        svg.text(
            (left + WIDTH) / 2.0,
            (top + bottom) / 2.0,
            "middle",
            labels::texts(data.lang).no_data,
        );
    }
    let note = has_band.then_some(labels::texts(data.lang).band);
    (bottom + 30.0, note)
}

/// The corners of a curve through `points[..][field]`: a staircase for step curves.
fn vertices(points: &[[f64; 4]], field: usize, step: bool) -> Vec<(f64, f64)> {
    let mut out: Vec<(f64, f64)> = Vec::new();
    for point in points {
        if step && let Some(&(_, previous)) = out.last() {
            out.push((point[0], previous));
        }
        out.push((point[0], point[field]));
    }
    out
}

/// Colour of series `index` of `count`: the palette, or for many ordered series (vintage
/// cohorts) a light-to-dark blue ramp, oldest lightest.
fn series_colour(index: usize, count: usize, ordered: bool) -> &'static str {
    const RAMP: [&str; 12] = [
        "#c6dbef", "#b0cfe8", "#9ac2e1", "#83b4d9", "#6ca6d1", "#5697c8", "#4288bf", "#3179b4",
        "#226aa8", "#165b9b", "#0d4b8a", "#083c76",
    ];
    if !ordered || count <= 8 {
        PALETTE[index % PALETTE.len()]
    } else {
        RAMP[(index * (RAMP.len() - 1)) / (count - 1).max(1)]
    }
}

/// A wrapping legend above the plot; returns its height.
fn legend(svg: &mut Svg, series: &[(String, Vec<[f64; 4]>)], top: f64, ordered: bool) -> f64 {
    let (mut x, mut y) = (64.0, top);
    for (index, (name, _)) in series.iter().enumerate() {
        let width = 22.0 + text_width(name) + 16.0;
        if x + width > WIDTH - 16.0 && x > 64.0 {
            x = 64.0;
            y += 20.0;
        }
        svg.rect(
            x,
            y - 9.0,
            14.0,
            10.0,
            series_colour(index, series.len(), ordered),
        );
        svg.text(x + 20.0, y, "start", name);
        x += width;
    }
    y - top + 22.0
}

/// Contiguous runs of present points.
fn runs<T: Copy>(points: &[Option<T>]) -> Vec<Vec<T>> {
    let mut out: Vec<Vec<T>> = Vec::new();
    let mut current: Vec<T> = Vec::new();
    for point in points {
        match point {
            Some(p) => current.push(*p),
            None if !current.is_empty() => out.push(std::mem::take(&mut current)),
            None => {}
        }
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

fn polyline(points: &[(f64, f64)]) -> String {
    let mut d = String::new();
    for (index, (x, y)) in points.iter().enumerate() {
        d.push_str(&format!(
            "{}{} {}",
            if index == 0 { "M" } else { "L" },
            n(*x),
            n(*y)
        ));
    }
    d
}

/// Width of the category labels column, estimated from the text.
fn label_width(names: &[String]) -> f64 {
    (names.iter().map(|s| text_width(s)).fold(0.0, f64::max) + 14.0).clamp(64.0, 280.0)
}

/// Rough rendered width of a label: CJK characters are square, Latin ones about 0.6 em.
fn text_width(text: &str) -> f64 {
    text.chars()
        .map(|c| if c.is_ascii() { 0.6 } else { 1.05 })
        .sum::<f64>()
        * FONT
}

/// A coordinate with one decimal (fixed precision keeps the page's bytes stable).
fn n(value: f64) -> String {
    let text = format!("{value:.1}");
    if text == "-0.0" { "0.0".into() } else { text }
}

/// A linear axis over "nice" round ticks.
struct Axis {
    low: f64,
    high: f64,
    step: f64,
    from: f64,
    to: f64,
    role: Role,
}

impl Axis {
    /// An axis covering `values`, drawn from pixel `from` to pixel `to`.
    fn new(values: &[f64], from: f64, to: f64, role: Role) -> Axis {
        let finite = values.iter().copied().filter(|v| v.is_finite());
        let (mut low, mut high) = finite.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
            (a.min(v), b.max(v))
        });
        if !low.is_finite() {
            (low, high) = (0.0, 1.0);
        }
        if high - low < 1e-12 {
            let pad = if high == 0.0 { 1.0 } else { high.abs() * 0.1 };
            (low, high) = (low - pad * f64::from(low != 0.0), high + pad);
        }
        // Whole-number axes (days, months) never get a step of 2.5.
        let whole = role == Role::Dimension && values.iter().all(|v| v.fract() == 0.0);
        let step = nice_step((high - low) / 5.0, whole);
        let low = (low / step + 1e-9).floor() * step;
        let high = (high / step - 1e-9).ceil() * step;
        Axis {
            low,
            high,
            step,
            from,
            to,
            role,
        }
    }

    fn at(&self, value: f64) -> f64 {
        self.from + (value - self.low) / (self.high - self.low) * (self.to - self.from)
    }

    fn ticks(&self) -> Vec<f64> {
        let count = ((self.high - self.low) / self.step).round() as usize;
        (0..=count)
            .map(|i| self.low + self.step * i as f64)
            .collect()
    }

    fn label(&self, value: f64) -> String {
        // As many decimals as the step needs: 25%, 2.5%, 0.25%.
        let decimals = |scale: f64| {
            (0..3)
                .find(|d| {
                    let scaled = self.step * scale * 10f64.powi(*d);
                    (scaled - scaled.round()).abs() < 1e-6
                })
                .unwrap_or(3) as usize
        };
        match self.role {
            Role::Rate => format!("{:.*}%", decimals(100.0), value * 100.0),
            Role::Count | Role::Amount => display::thousands(value, decimals(1.0)),
            _ => format!("{:.*}", decimals(1.0), value),
        }
    }

    fn vertical_grid(&self, svg: &mut Svg, top: f64, bottom: f64) {
        let d: String = self
            .ticks()
            .iter()
            .map(|t| format!("M{} {}V{}", n(self.at(*t)), n(top), n(bottom)))
            .collect();
        svg.path(&d, GRID, "none", 1.0);
    }

    fn horizontal_grid(&self, svg: &mut Svg, left: f64, right: f64) {
        let d: String = self
            .ticks()
            .iter()
            .map(|t| format!("M{} {}H{}", n(left), n(self.at(*t)), n(right)))
            .collect();
        svg.path(&d, GRID, "none", 1.0);
        for tick in self.ticks() {
            svg.text(left - 6.0, self.at(tick) + 4.0, "end", &self.label(tick));
        }
    }

    fn bottom_labels(&self, svg: &mut Svg, bottom: f64) {
        svg.path(
            &format!("M{} {}H{}", n(self.from), n(bottom), n(self.to)),
            INK,
            "none",
            1.0,
        );
        for tick in self.ticks() {
            svg.text(self.at(tick), bottom + 16.0, "middle", &self.label(tick));
        }
    }
}

/// A step of 1, 2, 2.5 or 5 times a power of ten nearest to `raw` (no 2.5 and at least 1 for
/// whole numbers).
fn nice_step(raw: f64, whole: bool) -> f64 {
    let magnitude = 10f64.powf(raw.log10().floor());
    let normal = raw / magnitude;
    let choices: &[f64] = if whole {
        &[1.0, 2.0, 5.0, 10.0]
    } else {
        &[1.0, 2.0, 2.5, 5.0, 10.0]
    };
    let distance = |s: f64| (s.ln() - normal.ln()).abs();
    let nice = choices
        .iter()
        .copied()
        .min_by(|a, b| distance(*a).total_cmp(&distance(*b)))
        .unwrap_or(1.0)
        * magnitude;
    if whole { nice.max(1.0) } else { nice }
}

/// The body of an SVG element being drawn.
#[derive(Default)]
struct Svg {
    body: String,
}

impl Svg {
    fn rect(&mut self, x: f64, y: f64, width: f64, height: f64, fill: &str) {
        self.body.push_str(&format!(
            "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"{fill}\"/>\n",
            n(x),
            n(y),
            n(width.max(0.0)),
            n(height.max(0.0))
        ));
    }

    fn path(&mut self, d: &str, stroke: &str, fill: &str, width: f64) {
        if d.is_empty() {
            return;
        }
        self.body.push_str(&format!(
            "<path d=\"{d}\" fill=\"{fill}\" stroke=\"{stroke}\" stroke-width=\"{width}\"/>\n"
        ));
    }

    fn area(&mut self, d: &str, fill: &str, opacity: f64) {
        self.body.push_str(&format!(
            "<path d=\"{d}\" fill=\"{fill}\" fill-opacity=\"{opacity}\" stroke=\"none\"/>\n"
        ));
    }

    fn circle(&mut self, x: f64, y: f64, r: f64, fill: &str) {
        self.body.push_str(&format!(
            "<circle cx=\"{}\" cy=\"{}\" r=\"{r}\" fill=\"{fill}\"/>\n",
            n(x),
            n(y)
        ));
    }

    fn text(&mut self, x: f64, y: f64, anchor: &str, content: &str) {
        self.body.push_str(&format!(
            "<text x=\"{}\" y=\"{}\" text-anchor=\"{anchor}\">{}</text>\n",
            n(x),
            n(y),
            escape(content)
        ));
    }

    /// A framed box saying there is nothing to draw; returns the height.
    fn empty(&mut self, lang: Lang) -> f64 {
        self.body.push_str(&format!(
            "<rect x=\"0.5\" y=\"0.5\" width=\"{}\" height=\"59\" fill=\"none\" stroke=\"{GRID}\"/>\n",
            n(WIDTH - 1.0)
        ));
        self.text(WIDTH / 2.0, 34.0, "middle", labels::texts(lang).no_data);
        60.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nice_axes() {
        let axis = Axis::new(&[0.0, 0.63, 0.88], 0.0, 100.0, Role::Rate);
        assert_eq!((axis.low, axis.high, axis.step), (0.0, 1.0, 0.2));
        assert_eq!(axis.label(0.4), "40%");
        let small = Axis::new(&[0.0, 0.031], 0.0, 100.0, Role::Rate);
        assert!((small.high - 0.035).abs() < 1e-12, "{}", small.high);
        assert_eq!(small.label(0.005), "0.5%");
        let months = Axis::new(&[0.0, 12.0], 0.0, 100.0, Role::Dimension);
        assert_eq!((months.high, months.step), (12.0, 2.0));
        assert_eq!(months.label(4.0), "4");
        let quarter = Axis::new(&[0.0, 0.12], 0.0, 100.0, Role::Rate);
        assert_eq!(quarter.label(0.025), "2.5%");
        let counts = Axis::new(&[0.0, 5948.0], 0.0, 100.0, Role::Count);
        assert_eq!((counts.high, counts.step), (6000.0, 1000.0));
        assert_eq!(counts.label(6000.0), "6,000");
        let flat = Axis::new(&[0.5, 0.5], 0.0, 100.0, Role::Rate);
        assert!(flat.low <= 0.5 && flat.high > 0.5);
        let none = Axis::new(&[], 0.0, 100.0, Role::Rate);
        assert_eq!((none.low, none.high), (0.0, 1.0));
    }

    #[test]
    fn staircase_and_runs() {
        let points = [
            [0.0, 1.0, 1.0, 1.0],
            [10.0, 0.8, 0.7, 0.9],
            [20.0, 0.5, 0.4, 0.6],
        ];
        assert_eq!(
            vertices(&points, 1, true),
            [
                (0.0, 1.0),
                (10.0, 1.0),
                (10.0, 0.8),
                (20.0, 0.8),
                (20.0, 0.5)
            ]
        );
        assert_eq!(vertices(&points, 1, false).len(), 3);
        assert_eq!(
            runs(&[Some(1), None, Some(2), Some(3), None]),
            vec![vec![1], vec![2, 3]]
        );
        assert_eq!(n(-0.01), "0.0");
        assert_eq!(series_colour(0, 20, true), "#c6dbef");
        assert_eq!(series_colour(19, 20, true), "#083c76");
        assert_eq!(series_colour(8, 9, false), "#882255");
    }
}
