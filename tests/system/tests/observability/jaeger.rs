//! Reading a trace back from Jaeger's query API (`/api/traces/{id}`).

use std::collections::{BTreeSet, HashMap};
use std::fmt;

use eventbank_testkit::http::get_json;

/// One span as Jaeger returns it.
#[derive(Debug, Clone)]
pub struct Span {
    pub service: String,
    pub operation: String,
    pub span_id: String,
    pub parents: Vec<String>,
}

/// The spans of one trace.
#[derive(Debug)]
pub struct Trace {
    spans: Vec<Span>,
}

impl Trace {
    /// The trace, once Jaeger has any span of it.
    pub async fn fetch(http: &reqwest::Client, query: &str, trace_id: &str) -> Option<Self> {
        let body = get_json(http, &format!("{query}/api/traces/{trace_id}")).await?;
        let trace = body["data"].as_array()?.first()?;
        let services: HashMap<&str, &str> = trace["processes"]
            .as_object()?
            .iter()
            .filter_map(|(id, process)| Some((id.as_str(), process["serviceName"].as_str()?)))
            .collect();
        let spans = trace["spans"]
            .as_array()?
            .iter()
            .filter_map(|span| {
                Some(Span {
                    service: (*services.get(span["processID"].as_str()?)?).to_owned(),
                    operation: span["operationName"].as_str()?.to_owned(),
                    span_id: span["spanID"].as_str()?.to_owned(),
                    parents: span["references"]
                        .as_array()?
                        .iter()
                        .filter(|r| r["refType"] == "CHILD_OF")
                        .filter_map(|r| r["spanID"].as_str().map(str::to_owned))
                        .collect(),
                })
            })
            .collect();
        Some(Self { spans })
    }

    pub fn services(&self) -> BTreeSet<&str> {
        self.spans.iter().map(|s| s.service.as_str()).collect()
    }

    pub fn has_span(&self, service: &str, operation: &str) -> bool {
        self.spans
            .iter()
            .any(|s| s.service == service && s.operation == operation)
    }

    /// Every span is a child of another span of the trace, or of `caller`
    /// (the span id the test sent in its `traceparent`): one tree, no
    /// orphans, no second root.
    pub fn assert_connected(&self, caller: &str) {
        let ids: BTreeSet<&str> = self.spans.iter().map(|s| s.span_id.as_str()).collect();
        for span in &self.spans {
            assert!(
                span.parents
                    .iter()
                    .any(|p| p == caller || ids.contains(p.as_str())),
                "{} {} has no parent in the trace: {self}",
                span.service,
                span.operation
            );
        }
    }
}

impl fmt::Display for Trace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for span in &self.spans {
            writeln!(
                f,
                "  {} {} {} <- {:?}",
                span.service, span.operation, span.span_id, span.parents
            )?;
        }
        Ok(())
    }
}
