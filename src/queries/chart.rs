//! The `-- chart:` header grammar (docs/queries.md): which chart the HTML page draws for a
//! report, parsed strictly so that a typo fails `check`, not the published page.
//!
//! ```text
//! chart  = "none" | spec { ";" spec }
//! spec   = "bar"    value "by" category [band]
//!        | "line"   value "by" x [band]
//!        | "funnel" value "by" stage
//!        | "step"   value "over" x ["by" group] [band]
//!        | "lines"  value "over" x "by" group
//! band   = "band" low high
//! ```
//!
//! Every name is a result column (`^[a-z][a-z0-9_]*$`). Without `band`, `bar`, `line` and
//! `step` use `<value>_low` and `<value>_high` when the query returns both (else
//! `<value>_ci_low` and `<value>_ci_high`).

use datafusion::arrow::datatypes::{DataType, Schema};

use crate::error::usage;

/// What kind of chart, and so how its columns are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ChartKind {
    /// Horizontal bars of `value` per `category` row, interval whiskers.
    Bar,
    /// One line of `value` over the rows in table order (e.g. months), interval band.
    Line,
    /// Centered bars of `value` per stage, in table order, with the share of the first.
    Funnel,
    /// Step curves (Kaplan–Meier) of `value` over numeric `x`, one per group, interval band.
    Step,
    /// One line per group of `value` over numeric `x` (vintage curves).
    Lines,
}

impl ChartKind {
    const ALL: [(&'static str, ChartKind); 5] = [
        ("bar", ChartKind::Bar),
        ("line", ChartKind::Line),
        ("funnel", ChartKind::Funnel),
        ("step", ChartKind::Step),
        ("lines", ChartKind::Lines),
    ];

    /// The keyword in the header.
    pub fn keyword(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(_, kind)| *kind == self)
            .map_or("", |(word, _)| word)
    }
}

/// One parsed chart request.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Chart {
    /// Chart kind.
    pub kind: ChartKind,
    /// The plotted measure.
    pub value: String,
    /// Category (bar, line, funnel) or numeric x axis (step, lines).
    pub x: String,
    /// One series per distinct value of this column (step, lines).
    pub group: Option<String>,
    /// Interval bounds `(low, high)`; explicit, or `<value>_low` / `<value>_high` when present.
    pub band: Option<(String, String)>,
    /// Whether the band was named explicitly (then the columns must exist).
    pub explicit_band: bool,
}

/// Parses a whole `-- chart:` value: `none`, or specs separated by `;`.
pub fn parse(text: &str) -> anyhow::Result<Vec<Chart>> {
    let text = text.trim();
    if text == "none" {
        return Ok(Vec::new());
    }
    text.split(';')
        .map(|spec| {
            parse_one(spec.trim()).map_err(|e| usage(format!("chart `{}`: {e}", spec.trim())))
        })
        .collect()
}

fn parse_one(spec: &str) -> Result<Chart, String> {
    let words: Vec<&str> = spec.split_whitespace().collect();
    let Some((&keyword, rest)) = words.split_first() else {
        return Err("empty chart; write `none` for no chart".into());
    };
    let kind = ChartKind::ALL
        .iter()
        .find(|(word, _)| *word == keyword)
        .map(|(_, kind)| *kind)
        .ok_or_else(|| {
            format!("unknown chart kind `{keyword}` (known: none, bar, line, funnel, step, lines)")
        })?;
    let mut words = Words { rest, kind };
    let value = words.name("value")?;
    let x = match kind {
        ChartKind::Bar | ChartKind::Line | ChartKind::Funnel => words.keyword_then_name("by")?,
        ChartKind::Step | ChartKind::Lines => words.keyword_then_name("over")?,
    };
    let group = match kind {
        ChartKind::Lines => Some(words.keyword_then_name("by")?),
        ChartKind::Step if words.peek() == Some("by") => Some(words.keyword_then_name("by")?),
        _ => None,
    };
    let band = match kind {
        ChartKind::Bar | ChartKind::Line | ChartKind::Step if words.peek() == Some("band") => {
            words.expect("band")?;
            Some((words.name("low")?, words.name("high")?))
        }
        _ => None,
    };
    if let Some(extra) = words.peek() {
        return Err(format!("unexpected `{extra}`; grammar: {}", grammar(kind)));
    }
    let explicit_band = band.is_some();
    Ok(Chart {
        kind,
        value,
        x,
        group,
        band,
        explicit_band,
    })
}

/// The grammar of one chart kind, for error messages.
fn grammar(kind: ChartKind) -> &'static str {
    match kind {
        ChartKind::Bar => "`bar <value> by <category> [band <low> <high>]`",
        ChartKind::Line => "`line <value> by <x> [band <low> <high>]`",
        ChartKind::Funnel => "`funnel <value> by <stage>`",
        ChartKind::Step => "`step <value> over <x> [by <group>] [band <low> <high>]`",
        ChartKind::Lines => "`lines <value> over <x> by <group>`",
    }
}

struct Words<'a> {
    rest: &'a [&'a str],
    kind: ChartKind,
}

impl<'a> Words<'a> {
    fn peek(&self) -> Option<&'a str> {
        self.rest.first().copied()
    }

    fn next(&mut self, what: &str) -> Result<&'a str, String> {
        let (first, rest) = self
            .rest
            .split_first()
            .ok_or_else(|| format!("missing {what}; grammar: {}", grammar(self.kind)))?;
        self.rest = rest;
        Ok(first)
    }

    fn expect(&mut self, keyword: &str) -> Result<(), String> {
        let word = self.next(&format!("`{keyword}`"))?;
        if word == keyword {
            Ok(())
        } else {
            Err(format!(
                "expected `{keyword}`, found `{word}`; grammar: {}",
                grammar(self.kind)
            ))
        }
    }

    fn name(&mut self, what: &str) -> Result<String, String> {
        let word = self.next(&format!("<{what}> column"))?;
        if !crate::queries::valid_name(word) || ["by", "over", "band"].contains(&word) {
            return Err(format!(
                "`{word}` is not a column name (<{what}>); grammar: {}",
                grammar(self.kind)
            ));
        }
        Ok(word.to_string())
    }

    fn keyword_then_name(&mut self, keyword: &str) -> Result<String, String> {
        self.expect(keyword)?;
        let what = if keyword == "by" && matches!(self.kind, ChartKind::Step | ChartKind::Lines) {
            "group"
        } else if keyword == "by" {
            "category"
        } else {
            "x"
        };
        self.name(what)
    }
}

impl Chart {
    /// Every column the chart reads.
    pub fn columns(&self) -> Vec<&str> {
        let mut columns = vec![self.value.as_str(), self.x.as_str()];
        columns.extend(self.group.as_deref());
        if let Some((low, high)) = &self.band {
            columns.extend([low.as_str(), high.as_str()]);
        }
        columns
    }

    /// Completes the default band from the result columns and checks every name exists.
    pub fn resolve(&mut self, result_columns: &[String]) -> Result<(), String> {
        let has = |name: &str| result_columns.iter().any(|c| c == name);
        if !self.explicit_band
            && matches!(
                self.kind,
                ChartKind::Bar | ChartKind::Line | ChartKind::Step
            )
        {
            let value = &self.value;
            self.band = [("_low", "_high"), ("_ci_low", "_ci_high")]
                .iter()
                .map(|(low, high)| (format!("{value}{low}"), format!("{value}{high}")))
                .find(|(low, high)| has(low) && has(high));
        }
        match self.columns().into_iter().find(|c| !has(c)) {
            Some(missing) => Err(format!(
                "chart `{}` names `{missing}`, which the query does not return",
                self.kind.keyword()
            )),
            None => Ok(()),
        }
    }

    /// Checks that the measured columns (and the numeric x axis) are numbers.
    pub fn check_types(&self, schema: &Schema) -> Result<(), String> {
        let mut numeric = vec![self.value.as_str()];
        if matches!(self.kind, ChartKind::Step | ChartKind::Lines) {
            numeric.push(&self.x);
        }
        if let Some((low, high)) = &self.band {
            numeric.extend([low.as_str(), high.as_str()]);
        }
        for name in numeric {
            let Ok(field) = schema.field_with_name(name) else {
                continue;
            };
            if !is_number(field.data_type()) {
                return Err(format!(
                    "chart `{}` needs numbers in `{name}`, which is {}",
                    self.kind.keyword(),
                    field.data_type()
                ));
            }
        }
        Ok(())
    }
}

fn is_number(data_type: &DataType) -> bool {
    data_type.is_numeric() || matches!(data_type, DataType::Null)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn columns(names: &[&str]) -> Vec<String> {
        names.iter().map(|n| n.to_string()).collect()
    }

    #[test]
    fn every_kind_parses() {
        let charts = parse("bar settlement_rate by region").unwrap();
        assert_eq!(charts[0].kind, ChartKind::Bar);
        assert_eq!(
            (charts[0].value.as_str(), charts[0].x.as_str()),
            ("settlement_rate", "region")
        );
        let step =
            &parse("step survival over days by region band survival_low survival_high").unwrap()[0];
        assert_eq!(step.group.as_deref(), Some("region"));
        assert_eq!(
            step.band,
            Some(("survival_low".into(), "survival_high".into()))
        );
        let step = &parse("step survival over days").unwrap()[0];
        assert_eq!(step.group, None);
        let lines = &parse("lines cumulative_recovery_rate over months_since_opening by cohort")
            .unwrap()[0];
        assert_eq!(lines.group.as_deref(), Some("cohort"));
        assert_eq!(
            parse("funnel cases by stage").unwrap()[0].kind,
            ChartKind::Funnel
        );
        assert!(parse("none").unwrap().is_empty());
        let two = parse("bar complaint_rate by channel; bar upheld_rate by channel").unwrap();
        assert_eq!(two.len(), 2);
    }

    #[test]
    fn mistakes_are_errors() {
        for (bad, says) in [
            ("pie settlement_rate by region", "unknown chart kind `pie`"),
            ("bar settlement_rate region", "expected `by`"),
            ("bar settlement_rate by", "missing <category>"),
            ("bar settlement_rate by region extra", "unexpected `extra`"),
            ("lines value over months", "missing `by`"),
            ("funnel cases by stage band a b", "unexpected `band`"),
            ("step survival over Days", "not a column name"),
            ("bar settlement_rate by region band low", "missing <high>"),
            ("", "empty chart"),
            ("none; bar a by b", "unknown chart kind `none`"),
        ] {
            let error = format!("{:#}", parse(bad).unwrap_err());
            assert!(error.contains(says), "`{bad}`: {error}");
        }
    }

    #[test]
    fn default_band_and_missing_columns() {
        let mut chart = parse("bar settlement_rate by region").unwrap().remove(0);
        chart
            .resolve(&columns(&[
                "region",
                "settlement_rate",
                "settlement_rate_low",
                "settlement_rate_high",
            ]))
            .unwrap();
        assert_eq!(
            chart.band,
            Some(("settlement_rate_low".into(), "settlement_rate_high".into()))
        );
        let mut ci = parse("bar median_days by region").unwrap().remove(0);
        ci.resolve(&columns(&[
            "region",
            "median_days",
            "median_days_ci_low",
            "median_days_ci_high",
        ]))
        .unwrap();
        assert_eq!(
            ci.band,
            Some(("median_days_ci_low".into(), "median_days_ci_high".into()))
        );
        let mut no_band = parse("bar settlement_rate by region").unwrap().remove(0);
        no_band
            .resolve(&columns(&["region", "settlement_rate"]))
            .unwrap();
        assert_eq!(no_band.band, None);
        let mut missing = parse("bar settlement_rate by channel").unwrap().remove(0);
        let error = missing
            .resolve(&columns(&["region", "settlement_rate"]))
            .unwrap_err();
        assert!(error.contains("`channel`"), "{error}");
        let mut explicit = parse("line rate by month band lo hi").unwrap().remove(0);
        assert!(
            explicit
                .resolve(&columns(&["rate", "month"]))
                .unwrap_err()
                .contains("`lo`")
        );
    }

    #[test]
    fn measured_columns_must_be_numbers() {
        use datafusion::arrow::datatypes::Field;
        let schema = Schema::new(vec![
            Field::new("region", DataType::Utf8, true),
            Field::new("rate", DataType::Float64, true),
        ]);
        let ok = parse("bar rate by region").unwrap().remove(0);
        ok.check_types(&schema).unwrap();
        let bad = parse("bar region by rate").unwrap().remove(0);
        assert!(
            bad.check_types(&schema)
                .unwrap_err()
                .contains("needs numbers in `region`")
        );
    }
}
