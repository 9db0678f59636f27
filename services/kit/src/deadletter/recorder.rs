//! The recorder: a consumer of the service's own dead-letter topic that writes every message
//! into `dead_letters`. It waits for the database as long as it is down, with its offset
//! unstored, so a dead letter produced during an outage is recorded when it is back.

use std::time::Duration;

use rdkafka::consumer::{Consumer, StreamConsumer};
use sqlx::PgPool;

use super::{NewDeadLetter, store};
use crate::shutdown::Shutdown;

/// Longest pause between two tries while the database is down.
const MAX_BACKOFF: Duration = Duration::from_secs(10);

/// Records the dead-letter topic `consumer` is subscribed to until `shutdown`, then commits
/// and closes the consumer (bounded: [`crate::kafka::CLOSE_WITHIN`]).
pub(crate) async fn run(consumer: StreamConsumer, pool: PgPool, mut shutdown: Shutdown) {
    follow(&consumer, &pool, &mut shutdown).await;
    crate::kafka::close_consumer(consumer, crate::kafka::CLOSE_WITHIN, "dead-letter recorder")
        .await;
}

async fn follow(consumer: &StreamConsumer, pool: &PgPool, shutdown: &mut Shutdown) {
    loop {
        let message = tokio::select! {
            () = shutdown.wait() => break,
            message = consumer.recv() => message,
        };
        let message = match message {
            Ok(message) => message,
            Err(error) => {
                tracing::warn!(%error, "dead-letter recorder: kafka consumer error");
                tokio::time::sleep(Duration::from_millis(500)).await;
                continue;
            }
        };
        let letter = NewDeadLetter::from_message(&message);
        let mut tries: u32 = 0;
        loop {
            match store::record(pool, &letter).await {
                Ok(written) => {
                    if written {
                        tracing::info!(
                            partition = letter.partition,
                            offset = letter.offset,
                            reason = letter.reason(),
                            "dead letter recorded"
                        );
                    }
                    break;
                }
                Err(error) => {
                    tries += 1;
                    let delay =
                        Duration::from_millis(200 * 2u64.pow(tries.min(6))).min(MAX_BACKOFF);
                    tracing::warn!(
                        %error,
                        tries,
                        ?delay,
                        "could not record a dead letter yet; it waits on the topic"
                    );
                    if !shutdown.pause(delay).await {
                        return;
                    }
                }
            }
        }
        if let Err(error) = consumer.store_offset_from_message(&message) {
            tracing::warn!(%error, "dead-letter recorder: could not store the offset");
        }
    }
}
