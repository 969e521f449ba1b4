//! System tests: the four service binaries together, as a user runs them,
//! on a private 3-broker cluster, while services and brokers fail. The tests
//! are in `tests/`; they run the binaries `cargo test --workspace` builds
//! (every service's own integration tests need them).
