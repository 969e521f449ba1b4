//! The command API's Prometheus metrics (all prefixed `eventbank_api_`);
//! request latency is the runtime's `eventbank_http_request_duration_seconds`.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CommandLabels {
    command: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StatusLabels {
    status: &'static str,
    /// The rejection's code (`insufficient_funds`, ...), or `accepted`.
    code: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReasonLabels {
    reason: &'static str,
}

eventbank_runtime::metric_set! {
    pub struct ApiMetrics {
        commands_sent: Family<CommandLabels, Counter> =>
            "api_commands_sent",
            "Commands the API put on account-commands (acknowledged by Kafka), by type";
        produce_failures: Family<CommandLabels, Counter> =>
            "api_produce_failures",
            "Commands the API could not put on account-commands (answered 503), by type";
        result_timeouts: Family<CommandLabels, Counter> =>
            "api_result_timeouts",
            "Requests answered 202 pending because no result arrived in time, by command type";
        idempotent_replays: Counter =>
            "api_idempotent_replays",
            "Requests answered from the result cache without producing (repeated Idempotency-Key)";
        results: Family<StatusLabels, Counter> =>
            "api_command_results",
            "Command results read from command-results, by status and code (the rejection's, or accepted)";
        undecodable_results: Family<ReasonLabels, Counter> =>
            "api_command_results_undecodable",
            "Records on command-results that could not be decoded (skipped), by reason";
        result_cache_entries: Gauge =>
            "api_result_cache_entries",
            "Command results held in memory for GET /commands/{id} and idempotent retries";
    }
}

impl ApiMetrics {
    pub fn command_sent(&self, command: &'static str) {
        self.commands_sent
            .get_or_create(&CommandLabels { command })
            .inc();
    }

    pub fn produce_failed(&self, command: &'static str) {
        self.produce_failures
            .get_or_create(&CommandLabels { command })
            .inc();
    }

    pub fn result_timed_out(&self, command: &'static str) {
        self.result_timeouts
            .get_or_create(&CommandLabels { command })
            .inc();
    }

    pub fn idempotent_replay(&self) {
        self.idempotent_replays.inc();
    }

    pub fn result_received(&self, status: &'static str, code: &'static str, cached: usize) {
        self.results
            .get_or_create(&StatusLabels { status, code })
            .inc();
        self.result_cache_entries
            .set(i64::try_from(cached).unwrap_or(i64::MAX));
    }

    pub fn result_undecodable(&self, reason: &'static str) {
        self.undecodable_results
            .get_or_create(&ReasonLabels { reason })
            .inc();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registered_metrics_are_exposed() {
        let (metrics, registry) = ApiMetrics::in_own_registry();
        metrics.command_sent("deposit");
        metrics.result_received("accepted", "accepted", 1);
        metrics.result_received("rejected", "insufficient_funds", 1);
        metrics.result_timed_out("deposit");
        let text = registry.encode();
        for needle in [
            "eventbank_api_commands_sent_total{command=\"deposit\"} 1",
            "eventbank_api_command_results_total{status=\"accepted\",code=\"accepted\"} 1",
            "eventbank_api_command_results_total{status=\"rejected\",code=\"insufficient_funds\"} 1",
            "eventbank_api_result_timeouts_total{command=\"deposit\"} 1",
            "eventbank_api_result_cache_entries 1",
        ] {
            assert!(text.contains(needle), "{needle} not in\n{text}");
        }
    }
}
