//! A service's metrics declared once each: the field that holds the series,
//! its Prometheus name and its help, and nothing to keep in step between a
//! struct, a constructor and a list of registrations.

/// Label pairs of a [`Family`](prometheus_client::metrics::family::Family)
/// whose labels are only known at run time.
pub type Labels = Vec<(String, String)>;

/// `pairs` as [`Labels`].
pub fn labels(pairs: &[(&str, &str)]) -> Labels {
    pairs
        .iter()
        .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
        .collect()
}

/// Declares a struct of metrics, cheap to clone (clones share the series),
/// with `unregistered()` (metrics nobody scrapes: tests) and
/// `register(&MetricsRegistry)`, which registers each under its name and help,
/// in declaration order. A field is built by `Default` unless it names its
/// constructor after `=`.
#[macro_export]
macro_rules! metric_set {
    (
        $(#[$attr:meta])*
        $vis:vis struct $name:ident {
            $(
                $(#[$field_attr:meta])*
                $field:ident: $ty:ty $(= $init:expr)? => $metric:literal, $help:literal;
            )*
        }
    ) => {
        $(#[$attr])*
        #[derive(Debug, Clone)]
        $vis struct $name {
            $(
                $(#[$field_attr])*
                $field: $ty,
            )*
        }

        impl $name {
            /// Metrics nobody scrapes (tests).
            pub fn unregistered() -> Self {
                Self {
                    $($field: $crate::metric_set!(@init $ty $(, $init)?),)*
                }
            }

            /// The set registered in a registry of its own, to read back
            /// with `encode` (tests; not every set's tests need it).
            #[allow(dead_code)]
            pub fn in_own_registry() -> (Self, $crate::http::MetricsRegistry) {
                let registry = $crate::http::MetricsRegistry::new("test", "0");
                (Self::register(&registry), registry)
            }

            /// Creates the metrics and registers them with `registry`.
            pub fn register(registry: &$crate::http::MetricsRegistry) -> Self {
                let metrics = Self::unregistered();
                $(registry.register($metric, $help, metrics.$field.clone());)*
                metrics
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::unregistered()
            }
        }
    };
    (@init $ty:ty) => {
        <$ty>::default()
    };
    (@init $ty:ty, $init:expr) => {
        $init
    };
}

#[cfg(test)]
mod tests {
    use prometheus_client::metrics::counter::Counter;
    use prometheus_client::metrics::family::Family;

    use super::*;
    use crate::http::MetricsRegistry;

    crate::metric_set! {
        struct Sample {
            hits: Counter => "sample_hits", "Hits";
            by_topic: Family<Labels, Counter> => "sample_by_topic", "Hits by topic";
        }
    }

    #[test]
    fn registered_series_are_exposed_under_their_names() {
        let registry = MetricsRegistry::new("sample", "test");
        let metrics = Sample::register(&registry);
        metrics.hits.inc();
        metrics
            .by_topic
            .get_or_create(&labels(&[("topic", "t")]))
            .inc();
        let text = registry.encode();
        assert!(text.contains("eventbank_sample_hits_total 1"), "{text}");
        assert!(
            text.contains("eventbank_sample_by_topic_total{topic=\"t\"} 1"),
            "{text}"
        );
    }
}
