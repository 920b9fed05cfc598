//! Group commit for polls that found their feed unchanged (304).
//!
//! An idle round is almost all 304s, and each one's record is a tiny write. Written one
//! by one, each costs a commit and a round trip to the single writer's thread — most of
//! a 304 poll's CPU. Here a poll queues its record and then waits its turn to write;
//! whoever gets the turn writes everything queued by then in one statement. Under load
//! batches form by themselves; an idle loop writes a batch of one without waiting.

use std::sync::Mutex;

use tokio::sync::oneshot;

use crate::store::{Store, StoreError, UnchangedPoll};

type Waiting = (UnchangedPoll, oneshot::Sender<bool>);

/// The queue of unchanged polls' records; shared by all polls of one poller.
#[derive(Default)]
pub struct UnchangedRecords {
    queued: Mutex<Vec<Waiting>>,
    turn: tokio::sync::Mutex<()>,
}

impl UnchangedRecords {
    /// Records `poll` (with whatever else is queued) and returns once it is written.
    pub async fn record(&self, store: &Store, poll: UnchangedPoll) -> Result<(), StoreError> {
        let (written, outcome) = oneshot::channel();
        self.queue().push((poll, written));
        {
            let _turn = self.turn.lock().await;
            let batch = std::mem::take(&mut *self.queue());
            if !batch.is_empty() {
                let polls: Vec<UnchangedPoll> = batch.iter().map(|(p, _)| *p).collect();
                let ok = store.record_unchanged_polls(&polls).await.is_ok();
                for (_, tell) in batch {
                    // A poll that gave up waiting (its time limit) no longer listens.
                    let _ = tell.send(ok);
                }
            }
        }
        // The turn that took this record has ended by now, so the answer is there.
        match outcome.await {
            Ok(true) => Ok(()),
            // The batch failed, or the poll writing it was cut short: write this record
            // alone, so that a failure is this feed's own error and nothing is lost.
            _ => store.record_unchanged_polls(&[poll]).await,
        }
    }

    // A poisoned lock only means a poll panicked while pushing; the list is whole.
    fn queue(&self) -> std::sync::MutexGuard<'_, Vec<Waiting>> {
        self.queued.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    #[tokio::test]
    async fn concurrent_records_are_all_written() {
        let store = Store::open_in_memory().await.expect("store");
        let mut ids = Vec::new();
        for i in 0..40 {
            let (row, _) =
                store.add_feed(&format!("http://127.0.0.1/{i}"), 600, 1).await.expect("add");
            ids.push(row.id);
        }
        let queue = Arc::new(UnchangedRecords::default());
        let mut tasks = tokio::task::JoinSet::new();
        for &id in &ids {
            let (queue, store) = (queue.clone(), store.clone());
            tasks.spawn(async move {
                let poll = UnchangedPoll { feed_id: id, now: 1000 + id, next_poll_at: 5000 + id };
                queue.record(&store, poll).await
            });
        }
        while let Some(done) = tasks.join_next().await {
            done.expect("task").expect("recorded");
        }
        for id in ids {
            let row = store.feed_by_id(id).await.expect("read").expect("row");
            assert_eq!(row.last_polled_at, Some(1000 + id));
            assert_eq!(row.last_success_at, Some(1000 + id));
            assert_eq!(row.next_poll_at, 5000 + id);
        }
    }
}
