//! The runtime's integration tests against the real Kafka, Redis and
//! PostgreSQL, as one binary: each module is one area, and every test
//! isolates its own topics, groups, keys and schema, so they run in parallel.

mod kafka_tls;
mod kafka_topics_and_transactions;
mod redis_and_postgres;
mod transactional_loop;
