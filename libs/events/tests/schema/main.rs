//! Integration tests of the schema, through the public API only.
//!
//! One test binary (rather than one per file) so the shared samples compile
//! once and every helper is used somewhere.

mod asyncapi;
mod fixture_schemas;
mod golden;
mod malformed;
mod round_trip;
mod samples;
mod topics;
mod upcasting;
