//! The transactional loop against the real broker: each input record's outputs
//! appear exactly once, poison records go to the dead-letter topic with their
//! reason while the partition moves on, and a restarted loop resumes from its
//! committed offsets with its restored state.

mod delivery;
mod fencing;
mod harness;
mod numbering;
mod recovery;
