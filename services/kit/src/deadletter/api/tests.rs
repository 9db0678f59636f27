//! What may be re-driven, and what a dead letter shows.
use super::*;
use crate::consumer::{HandleError, Handler};

struct Wants(&'static str);

impl Handler for Wants {
    fn wants(&self, event_type: &str) -> bool {
        event_type == self.0
    }

    async fn handle(
        &self,
        _tx: &mut sqlx::PgConnection,
        _event: &IncomingEvent,
    ) -> Result<(), HandleError> {
        Ok(())
    }
}

fn row(topic: &str, payload: Option<Vec<u8>>) -> Row {
    Row {
        id: 7,
        event_id: String::new(),
        event_type: String::new(),
        topic: topic.to_owned(),
        kafka_partition: 0,
        kafka_offset: 3,
        reason: "r".into(),
        recorded_at: Utc::now(),
        dead_letter_topic: None,
        dead_letter_partition: None,
        dead_letter_offset: None,
        message_key: None,
        payload,
        status: "open".into(),
        resolved_by: None,
        resolved_at: None,
        note: String::new(),
    }
}

fn envelope(producer: &str, event_type: &str, event_id: &str) -> Vec<u8> {
    Envelope {
        event_id: event_id.into(),
        event_type: event_type.into(),
        producer: producer.into(),
        aggregate_key: "c-1".into(),
        ..Default::default()
    }
    .encode_to_vec()
}

const TOPIC: &str = "e2e-1.collections.payments.events.v1";
const TYPE: &str = "receivables.events.v1.PaymentAllocated";
const ID: &str = "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b";

fn refusal(row: &Row) -> String {
    match never_handled(row, &Wants(TYPE)) {
        Ok(_) => "handled".into(),
        Err(e) => e.to_string(),
    }
}

#[test]
fn only_a_message_the_service_could_handle_is_redriven() {
    let good = row(TOPIC, Some(envelope("payments", TYPE, ID)));
    let event = never_handled(&good, &Wants(TYPE)).expect("a good event is re-driven");
    assert_eq!(event.topic, TOPIC);
    assert_eq!(event.envelope.event_id, ID);

    assert!(refusal(&row(TOPIC, None)).contains("before messages were stored"));
    assert!(refusal(&row(TOPIC, Some(vec![0xff, 0xfe]))).contains("not an event envelope"));
    // A forged producer is refused on re-drive as on consumption.
    let forged = row(TOPIC, Some(envelope("legal", TYPE, ID)));
    assert!(
        refusal(&forged).contains("not the owner"),
        "{}",
        refusal(&forged)
    );
    let bad_id = row(TOPIC, Some(envelope("payments", TYPE, "x")));
    assert!(refusal(&bad_id).contains("not a UUID"));
    let other = row(
        TOPIC,
        Some(envelope("payments", "receivables.events.v1.Other", ID)),
    );
    assert!(refusal(&other).contains("does not act on"));
    for text in [refusal(&forged), refusal(&other)] {
        assert!(text.contains("discard it with a reason"), "{text}");
    }
}

#[test]
fn the_summary_never_carries_the_payload() {
    let mut r = row(TOPIC, Some(envelope("payments", TYPE, ID)));
    r.status = "redriven".into();
    r.resolved_by = Some("ops.wu".into());
    r.resolved_at = Some(Utc::now());
    let p = to_proto(&r);
    assert_eq!(p.status, api::DeadLetterStatus::Redriven as i32);
    assert_eq!(
        (p.producer.as_str(), p.aggregate_key.as_str()),
        ("payments", "c-1")
    );
    assert_eq!(
        p.payload_bytes,
        i64::try_from(r.payload.as_ref().unwrap().len()).unwrap()
    );
    assert_eq!(
        p.dead_letter_offset, -1,
        "recorded before positions were kept"
    );
    assert!(
        not_open(&r)
            .to_string()
            .contains("redriven already (by ops.wu")
    );
    assert!(id_field(0).is_err() && id_field(-3).is_err() && id_field(1).is_ok());
}
