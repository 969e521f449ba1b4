//! Records deleted by retention before the audit log read them.
//!
//! `command-results` is kept for hours, and a rejection exists nowhere else;
//! an audit log down for longer than that resumes at the partition's new
//! start (the broker resets the fetch) and would otherwise never know what
//! it missed. Read committed, consecutive batches of a partition are at most
//! one offset apart (a transaction marker) or several (an aborted
//! transaction's records); only then is the partition's start asked for, and
//! if it lies past the stored offset, the range in between is a gap. The lag
//! probe, which learns every assigned partition's start anyway, finds the
//! gaps of partitions where nothing new arrives ([`lost_while_idle`]).

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::error::KafkaError;

use super::SeekOnAssign;
use crate::metrics::AuditMetrics;
use crate::store::{OffsetMap, RetentionGap};

const WATERMARK_TIMEOUT: Duration = Duration::from_secs(10);

/// The offsets `[stored, ..)` that cannot be read any more, if any: the
/// partition now starts at `low`, and its first record read is at `first`.
pub fn lost_range(stored: i64, first: i64, low: i64) -> Option<(i64, i64)> {
    (first > stored && low > stored).then(|| (stored, low.min(first)))
}

/// The probe's view: a partition starting past what is recorded lost
/// `[recorded, low)`, unless the consumer just read past it (its own check
/// then covers it).
pub fn lost_while_idle(recorded: i64, low: i64) -> Option<(i64, i64)> {
    (low > recorded).then_some((recorded, low))
}

/// Logs and counts newly recorded gaps.
pub fn report(gaps: &[RetentionGap], metrics: &AuditMetrics) {
    for gap in gaps {
        tracing::error!(
            topic = %gap.topic,
            partition = gap.partition,
            from_offset = gap.from_offset,
            to_offset = gap.to_offset,
            "records were deleted by retention before the audit log read them; the trail records the gap"
        );
        metrics.lost_to_retention(
            &gap.topic,
            u64::try_from(gap.to_offset - gap.from_offset).unwrap_or(0),
        );
    }
}

/// Partitions of `batch` whose first record jumps past the stored offset
/// further than a transaction marker explains, or jumps at all in the first
/// batch read since the partition was assigned (`unread`): `(topic,
/// partition, stored, first)`.
///
/// A jump of one is usually a marker, but it is also what one record
/// deleted by retention while the audit log was down looks like, when a new
/// record follows it. Asking the broker for every jump of one would cost a
/// round trip per batch on transactional topics, so it is asked once per
/// assignment: the down-time case. (The lag probe sees such a gap too, but
/// only if it runs before the new record is recorded.)
pub fn suspects(
    first_offsets: &OffsetMap,
    stored: &OffsetMap,
    unread: &HashSet<(String, i32)>,
) -> Vec<(String, i32, i64, i64)> {
    first_offsets
        .iter()
        .filter_map(|(key, first)| {
            let stored = stored.get(key).copied().unwrap_or(0);
            let jump = if unread.contains(key) { 0 } else { 1 };
            (*first > stored + jump).then(|| (key.0.clone(), key.1, stored, *first))
        })
        .collect()
}

/// Asks the broker where each suspect partition starts now and returns the
/// ranges retention deleted unread.
pub async fn find(
    consumer: &Arc<StreamConsumer<SeekOnAssign>>,
    suspects: Vec<(String, i32, i64, i64)>,
) -> Result<Vec<RetentionGap>, KafkaError> {
    if suspects.is_empty() {
        return Ok(Vec::new());
    }
    let consumer = Arc::clone(consumer);
    // librdkafka's watermark query blocks; keep it off the runtime.
    tokio::task::spawn_blocking(move || {
        let mut gaps = Vec::new();
        for (topic, partition, stored, first) in suspects {
            let (low, _) = consumer.fetch_watermarks(&topic, partition, WATERMARK_TIMEOUT)?;
            if let Some((from_offset, to_offset)) = lost_range(stored, first, low) {
                gaps.push(RetentionGap {
                    topic,
                    partition,
                    from_offset,
                    to_offset,
                });
            }
        }
        Ok(gaps)
    })
    .await
    .unwrap_or(Err(KafkaError::Canceled))
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::lost_range;
    use crate::store::OffsetMap;

    #[test]
    fn a_transaction_marker_is_not_a_gap() {
        assert_eq!(lost_range(10, 11, 0), None);
        assert_eq!(lost_range(10, 10, 0), None);
    }

    #[test]
    fn an_aborted_transaction_still_readable_from_the_start_is_not_a_gap() {
        // Offsets 10..15 hold aborted records: skipped, but not deleted.
        assert_eq!(lost_range(10, 15, 3), None);
        assert_eq!(lost_range(10, 15, 10), None);
    }

    #[test]
    fn one_record_deleted_while_down_is_a_gap() {
        // The record at 10 is gone (the partition starts at 11), the next one
        // is read: the same jump of one a marker makes, but the start says.
        assert_eq!(lost_range(10, 11, 11), Some((10, 11)));
    }

    #[test]
    fn a_jump_of_one_is_checked_once_after_assignment() {
        use super::suspects;
        let key = ("t".to_owned(), 0);
        let stored = OffsetMap::from([(key.clone(), 10)]);
        let first = OffsetMap::from([(key.clone(), 11)]);
        assert!(suspects(&first, &stored, &HashSet::new()).is_empty());
        assert_eq!(
            suspects(&first, &stored, &HashSet::from([key.clone()])),
            [("t".to_owned(), 0, 10, 11)]
        );
        let far = OffsetMap::from([(key, 15)]);
        assert_eq!(suspects(&far, &stored, &HashSet::new()).len(), 1);
    }

    #[test]
    fn offsets_below_the_new_start_are_lost() {
        assert_eq!(lost_range(10, 40, 40), Some((10, 40)));
        // Part deleted, part an aborted transaction: only the deleted part.
        assert_eq!(lost_range(10, 40, 25), Some((10, 25)));
        // A new audit log on a topic that already lost its beginning.
        assert_eq!(lost_range(0, 7, 7), Some((0, 7)));
    }
}
