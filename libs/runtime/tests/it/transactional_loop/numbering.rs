//! The processor the loop tests drive: it numbers each record per partition
//! and can be made to stall, freeze or fail to order.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use eventbank_runtime::kafka::transactional::{
    HandleError, Processor, ProcessorError, TopicPartition,
};
use eventbank_runtime::kafka::{KafkaSettings, OutputRecord, OwnedRecord, read_partition};

use super::harness::{STALL, TIMEOUT};

/// Numbers each record per partition, keeping the count in the state topic: a
/// replay that was applied twice would show as a skipped or repeated number.
pub(super) struct Numbering {
    pub(super) output: String,
    pub(super) state: String,
    pub(super) committed: HashMap<i32, u64>,
    pub(super) staged: HashMap<i32, u64>,
    pub(super) faults: Faults,
}

/// What a test makes the processor do wrong, switched on while it runs.
#[derive(Clone, Default)]
pub(super) struct Faults {
    /// Set: the next tick stalls (a long GC pause, a frozen node) past the
    /// group's max.poll.interval, then emits `zombie`.
    pub(super) stall_tick: Arc<AtomicBool>,
    /// Set: handling the record `hold` blocks, with the transaction open
    /// and the outputs of the records before it sent, until `released`
    /// (a process frozen mid-transaction; in-process nothing can kill it).
    pub(super) hold: Arc<AtomicBool>,
    /// Set: restoring blocks until `released`, and says so in `restoring`.
    pub(super) hold_restore: Arc<AtomicBool>,
    pub(super) restoring: Arc<AtomicBool>,
    pub(super) released: Arc<AtomicBool>,
}

impl Faults {
    fn wait_for_release(&self) {
        while !self.released.load(Ordering::SeqCst) {
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Processor for Numbering {
    fn assigned(
        &mut self,
        settings: &KafkaSettings,
        partitions: &[TopicPartition],
    ) -> Result<(), ProcessorError> {
        if self.faults.hold_restore.swap(false, Ordering::SeqCst) {
            self.faults.restoring.store(true, Ordering::SeqCst);
            self.faults.wait_for_release();
        }
        for tp in partitions {
            let records = read_partition(settings, &self.state, tp.partition, TIMEOUT)
                .map_err(|err| ProcessorError::new(err.to_string()))?;
            let count = records
                .last()
                .and_then(|r| r.payload.as_ref())
                .map(|p| String::from_utf8_lossy(p).parse().unwrap_or(0))
                .unwrap_or(0);
            self.committed.insert(tp.partition, count);
        }
        Ok(())
    }

    fn revoked(&mut self, partitions: &[TopicPartition]) {
        for tp in partitions {
            self.committed.remove(&tp.partition);
        }
    }

    fn handle(
        &mut self,
        record: &OwnedRecord,
        out: &mut Vec<OutputRecord>,
    ) -> Result<(), HandleError> {
        let payload = record.payload.clone().unwrap_or_default();
        if payload == b"hold" && self.faults.hold.swap(false, Ordering::SeqCst) {
            self.faults.wait_for_release();
        }
        if payload == b"poison" {
            return Err(HandleError::dead_letter("payload is poison"));
        }
        if payload == b"huge" {
            // An output Kafka refuses whatever happens (over message.max.bytes).
            out.push(OutputRecord {
                topic: self.output.clone(),
                partition: Some(record.partition),
                key: b"huge".to_vec(),
                payload: Some(vec![b'x'; 2_000_000]),
                headers: Vec::new(),
            });
            return Ok(());
        }
        let count = self
            .staged
            .get(&record.partition)
            .or_else(|| self.committed.get(&record.partition))
            .copied()
            .unwrap_or(0)
            + 1;
        self.staged.insert(record.partition, count);
        out.push(OutputRecord {
            topic: self.output.clone(),
            partition: Some(record.partition),
            key: record.key.clone().unwrap_or_default(),
            payload: Some(format!("{count}:{}", String::from_utf8_lossy(&payload)).into_bytes()),
            headers: Vec::new(),
        });
        out.push(OutputRecord {
            topic: self.state.clone(),
            partition: Some(record.partition),
            key: b"count".to_vec(),
            payload: Some(count.to_string().into_bytes()),
            headers: Vec::new(),
        });
        Ok(())
    }

    fn tick(&mut self, out: &mut Vec<OutputRecord>) -> Result<(), ProcessorError> {
        if self.faults.stall_tick.swap(false, Ordering::SeqCst) {
            std::thread::sleep(STALL);
            out.push(OutputRecord {
                topic: self.output.clone(),
                partition: Some(0),
                key: b"k".to_vec(),
                payload: Some(b"zombie".to_vec()),
                headers: Vec::new(),
            });
        }
        Ok(())
    }

    fn commit(&mut self) {
        self.committed.extend(self.staged.drain());
    }

    fn abort(&mut self) {
        self.staged.clear();
    }
}
