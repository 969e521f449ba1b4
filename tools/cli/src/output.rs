//! What commands print: aligned tables and short sentences for people, one
//! JSON document per command for scripts (`--json`; fields in docs/CLI.md,
//! which only grow: a field is never renamed or removed).

use serde_json::Value;

/// Where a command's result goes and in which form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Output {
    pub json: bool,
}

impl Output {
    /// Prints `value` as JSON with `--json`, else `human`'s text.
    pub fn emit(&self, value: &Value, human: impl FnOnce() -> String) {
        if self.json {
            println!(
                "{}",
                serde_json::to_string_pretty(value).unwrap_or_default()
            );
        } else {
            let text = human();
            if !text.is_empty() {
                println!("{}", text.trim_end());
            }
        }
    }

    /// A line of narration or progress for people only (never in `--json`).
    pub fn note(&self, text: &str) {
        if !self.json {
            println!("{text}");
        }
    }
}

/// A plain text table: a header row, then rows, columns padded to the widest
/// cell (numbers right-aligned). No borders, so it pastes and greps well.
#[derive(Debug, Clone, Default)]
pub struct Table {
    headers: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    pub fn new(headers: &[&str]) -> Self {
        Self {
            headers: headers.iter().map(|h| (*h).to_uppercase()).collect(),
            rows: Vec::new(),
        }
    }

    pub fn row(&mut self, cells: Vec<String>) -> &mut Self {
        self.rows.push(cells);
        self
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    pub fn render(&self) -> String {
        let columns = self.headers.len();
        let mut widths: Vec<usize> = self.headers.iter().map(|h| h.chars().count()).collect();
        for row in &self.rows {
            for (i, cell) in row.iter().enumerate().take(columns) {
                widths[i] = widths[i].max(cell.chars().count());
            }
        }
        let numeric: Vec<bool> = (0..columns)
            .map(|i| {
                // A column of numbers (and `-` for none), at least one a number.
                let number =
                    |row: &Vec<String>| row.get(i).is_some_and(|c| c.parse::<i128>().is_ok());
                self.rows.iter().any(number)
                    && self
                        .rows
                        .iter()
                        .all(|row| number(row) || row.get(i).is_some_and(|c| c == "-"))
            })
            .collect();
        let line = |cells: &[String]| {
            let mut out = String::new();
            for (i, width) in widths.iter().enumerate() {
                let cell = cells.get(i).map(String::as_str).unwrap_or("");
                let pad = width.saturating_sub(cell.chars().count());
                if i > 0 {
                    out.push_str("  ");
                }
                if numeric[i] {
                    out.push_str(&" ".repeat(pad));
                    out.push_str(cell);
                } else {
                    out.push_str(cell);
                    if i + 1 < columns {
                        out.push_str(&" ".repeat(pad));
                    }
                }
            }
            out.trim_end().to_owned()
        };
        let mut out = line(&self.headers);
        for row in &self.rows {
            out.push('\n');
            out.push_str(&line(row));
        }
        out
    }
}

/// A JSON value as a table cell: strings unquoted, null as `-`.
pub fn cell(value: &Value) -> String {
    match value {
        Value::Null => "-".to_owned(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// `key: value` lines for one object's fields, in `fields` order.
pub fn fields(value: &Value, fields: &[&str]) -> String {
    let width = fields.iter().map(|f| f.len()).max().unwrap_or(0);
    fields
        .iter()
        .filter(|field| value.get(**field).is_some())
        .map(|field| format!("{field:<width$}  {}", cell(&value[*field])))
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn table_pads_text_left_and_numbers_right() {
        let mut table = Table::new(&["holder", "balance"]);
        table.row(vec!["Ann".into(), "500".into()]);
        table.row(vec!["Bartholomew".into(), "7".into()]);
        assert_eq!(
            table.render(),
            "HOLDER       BALANCE\nAnn              500\nBartholomew        7"
        );
    }

    #[test]
    fn fields_skip_missing_and_show_null_as_dash() {
        let value = json!({"a": "x", "b": null});
        assert_eq!(fields(&value, &["a", "b", "c"]), "a  x\nb  -");
    }
}
