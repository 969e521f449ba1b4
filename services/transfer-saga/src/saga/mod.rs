//! Stage two: the saga proper. Reads the inbox, keeps each transfer's state
//! (restored from `transfer-state` on assignment), and emits commands,
//! transfer events and the new state in one transaction with its offsets.

mod outputs;
mod processor;
mod sagas;

pub use outputs::SagaTopics;
pub use processor::SagaProcessor;
