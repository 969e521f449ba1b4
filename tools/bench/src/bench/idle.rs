//! Stage **idle**: the four services on empty topics, and their RSS once
//! ready and left alone.

use std::time::Duration;

use super::progress::spinner;
use super::{Bench, SERVICES, STOP_GRACE};
use crate::report::Rss;

impl Bench {
    /// Every service on empty topics, ready, then left alone for 3 s.
    pub(super) async fn idle(&mut self) -> anyhow::Result<()> {
        let bar = spinner("idle: starting the four services on empty topics");
        let prefix = self.prefix.clone();
        let mut running = Vec::new();
        for service in SERVICES {
            running.push(
                self.start(service, &prefix, &[], &format!("{service}-idle"))
                    .await?,
            );
        }
        bar.set_message("idle: measuring RSS");
        tokio::time::sleep(Duration::from_secs(3)).await;
        for process in &running {
            self.results.rss.insert(
                process.name.clone(),
                Rss {
                    idle_kib: process.rss_kib().unwrap_or(0),
                    ..Rss::default()
                },
            );
        }
        for process in running {
            process.stop(STOP_GRACE).await?;
        }
        bar.finish_and_clear();
        Ok(())
    }
}
