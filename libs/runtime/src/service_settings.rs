//! The settings struct every service declares: the common sections
//! (`instance`, `http`, `auth`, `kafka`, `telemetry`, `shutdown_grace_secs`) with their defaults, then the
//! service's own sections, each defaulted by its own `Default`.

/// Declares a service's `Settings` struct with the common sections first, its
/// `Default` (HTTP on `$port`) and its
/// [`CommonSettings`](crate::service::CommonSettings).
///
/// The struct refuses unknown keys and defaults every missing one, like every
/// settings section. The service still implements
/// [`Validate`](crate::config::Validate), starting with
/// [`validate_common`](crate::service::CommonSettings::validate_common).
#[macro_export]
macro_rules! service_settings {
    (
        $(#[$attr:meta])*
        pub struct $name:ident on port $port:expr;
        $(
            $(#[$field_attr:meta])*
            pub $field:ident: $ty:ty,
        )*
    ) => {
        $(#[$attr])*
        #[derive(Debug, Clone, PartialEq, Eq, ::serde::Serialize, ::serde::Deserialize)]
        #[serde(deny_unknown_fields, default)]
        pub struct $name {
            /// Stable name of this instance (the pod name on Kubernetes): the
            /// transactional ids and static group members derive from it.
            pub instance: String,
            pub http: $crate::http::HttpSettings,
            /// Bearer tokens and their scopes; on by default, so a service
            /// without a token refuses to start.
            pub auth: $crate::http::AuthSettings,
            pub kafka: $crate::kafka::KafkaSettings,
            pub telemetry: $crate::telemetry::TelemetrySettings,
            /// How long the service's tasks get, once it is asked to stop,
            /// to finish what they hold (a batch, in-flight requests).
            /// Keep it below Kubernetes' `terminationGracePeriodSeconds`.
            pub shutdown_grace_secs: u64,
            $(
                $(#[$field_attr])*
                pub $field: $ty,
            )*
        }

        impl Default for $name {
            fn default() -> Self {
                Self {
                    instance: $crate::service::default_instance(),
                    http: $crate::http::HttpSettings::on_port($port),
                    auth: $crate::http::AuthSettings::default(),
                    kafka: $crate::kafka::KafkaSettings::default(),
                    telemetry: $crate::telemetry::TelemetrySettings::default(),
                    shutdown_grace_secs: $crate::supervisor::DEFAULT_GRACE.as_secs(),
                    $($field: <$ty>::default(),)*
                }
            }
        }

        $crate::common_settings!($name);
    };
}
