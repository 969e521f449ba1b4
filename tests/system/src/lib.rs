//! System tests: the four service binaries together, as a user runs them.
//! `tests/bank_under_faults` moves money on a private 3-broker cluster while
//! services and brokers fail; `tests/observability` follows one transfer
//! through all four services in Jaeger and checks every `/metrics` page;
//! `tests/tls` runs them with every link encrypted and authenticated.
//! `tests/contract` holds each service to its OpenAPI document (schemathesis).
//! They run the binaries `cargo test --workspace` builds (every service's
//! own integration tests need them).
