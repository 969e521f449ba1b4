//! The audit trail in PostgreSQL: appending (with the consumer's offsets, in
//! one transaction), reading pages, and the scans behind verify and reconcile.

mod append;
mod offsets;
mod read;
mod scan;

pub use append::{AppendOutcome, Sourced, append};
pub use offsets::{
    OffsetMap, RetentionGap, load_offsets, lock_offsets, record_gaps, retention_gaps, save_offsets,
};
pub use read::{chain_extent, stream_exists, stream_page};
pub use scan::{ReconcileReport, VerifyReport, reconcile, verify};
