use chrono::TimeZone as _;
use proptest::prelude::*;
use ring::rand::SystemRandom;
use ring::signature::KeyPair as _;

use super::*;

fn key() -> Ed25519KeyPair {
    let rng = SystemRandom::new();
    let pkcs8 = Ed25519KeyPair::generate_pkcs8(&rng).expect("key generation");
    Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).expect("own key parses")
}

fn digest() -> impl Strategy<Value = Digest> {
    any::<[u8; 32]>().prop_map(Digest)
}

fn draft() -> impl Strategy<Value = Draft> {
    let actor = prop_oneof![
        Just(Actor::System),
        "[a-z]{0,8}(@[a-z]{1,5})?".prop_map(Actor::Principal),
    ];
    let proof = prop_oneof![
        Just(None),
        ".{0,12}".prop_map(|s| Some(DeliveryProof::SmtpMessageId(s))),
        "[A-Z0-9]{0,13}".prop_map(|s| Some(DeliveryProof::RegisteredMail(s))),
        digest().prop_map(|d| Some(DeliveryProof::SignatureImage(d))),
    ];
    (
        (any::<u128>(), any::<u128>()),
        prop::sample::select(Channel::ALL),
        // 2000-01-01 .. 2100-01-01, with nanoseconds that sealing truncates.
        (946_684_800i64..4_102_444_800, 0u32..1_000_000_000),
        actor,
        ("[a-z_]{0,10}", "(zh-CN|en|)"),
        digest(),
        prop::sample::select(Outcome::ALL),
        proof,
    )
        .prop_map(
            |(
                (case, customer),
                channel,
                (secs, nanos),
                actor,
                (template_id, language),
                content_hash,
                outcome,
                delivery_proof,
            )| Draft {
                case_id: Uuid::from_u128(case),
                customer_id: Uuid::from_u128(customer),
                channel,
                at: Utc.timestamp_opt(secs, nanos).single().expect("in range"),
                actor,
                template_id,
                language,
                content_hash,
                outcome,
                delivery_proof,
            },
        )
}

fn log(max: usize) -> impl Strategy<Value = Vec<Entry>> {
    prop::collection::vec(draft(), 1..=max).prop_map(|drafts| {
        let mut out: Vec<Entry> = Vec::with_capacity(drafts.len());
        for d in drafts {
            let e = Entry::next(out.last(), d);
            out.push(e);
        }
        out
    })
}

fn next_of<T: Copy + PartialEq>(all: &[T], v: T) -> T {
    let i = all.iter().position(|x| *x == v).expect("listed");
    all[(i + 1) % all.len()]
}

fn flip(d: Digest) -> Digest {
    let mut b = d.0;
    b[7] ^= 0x40;
    Digest(b)
}

/// Changes field number `field` (0..13) of `e` to a different value, without re-sealing.
fn edit(e: &mut Entry, field: usize) {
    let d = &mut e.draft;
    match field {
        0 => e.seq += 1,
        1 => d.case_id = Uuid::from_u128(d.case_id.as_u128() ^ 1),
        2 => d.customer_id = Uuid::from_u128(d.customer_id.as_u128() ^ (1 << 90)),
        3 => d.channel = next_of(Channel::ALL, d.channel),
        4 => d.at += chrono::Duration::microseconds(1),
        5 => {
            d.actor = match &d.actor {
                Actor::System => Actor::Principal(String::new()),
                Actor::Principal(_) => Actor::System,
            }
        }
        6 => d.template_id.push('x'),
        7 => d.language.push('x'),
        8 => d.content_hash = flip(d.content_hash),
        9 => d.outcome = next_of(Outcome::ALL, d.outcome),
        10 => {
            d.delivery_proof = match &d.delivery_proof {
                None => Some(DeliveryProof::RegisteredMail(String::new())),
                Some(_) => None,
            }
        }
        11 => e.prev_hash = flip(e.prev_hash),
        _ => e.hash = flip(e.hash),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// Sealed logs verify, from the start and from any entry as a trusted anchor.
    #[test]
    fn random_logs_verify(entries in log(12), cut in any::<prop::sample::Index>()) {
        prop_assert_eq!(verify(&entries), Ok(()));
        let k = cut.index(entries.len());
        prop_assert_eq!(verify_after(entries[k].seq, entries[k].hash, &entries[k + 1..]), Ok(()));
        for (i, e) in entries.iter().enumerate() {
            prop_assert_eq!(e.seq, i as u64 + 1);
            prop_assert_eq!(e.draft.at.timestamp_subsec_nanos() % 1000, 0);
        }
    }

    /// Changing any one field of any entry (its hashes included) is reported as that entry
    /// edited.
    #[test]
    fn editing_any_field_of_any_entry_is_reported_as_that_entry(
        mut entries in log(10),
        at in any::<prop::sample::Index>(),
        which in 0usize..13,
    ) {
        let i = at.index(entries.len());
        let seq = entries[i].seq;
        edit(&mut entries[i], which);
        prop_assert_eq!(verify(&entries), Err(Tamper::Edited { seq }));
    }

    /// Deleting any entry but the last is reported after its predecessor; deleting the last
    /// is caught by a checkpoint that covered it.
    #[test]
    fn deleting_any_entry_is_reported_after_its_predecessor(
        mut entries in log(10),
        at in any::<prop::sample::Index>(),
    ) {
        let key = key();
        let last = entries.last().cloned().expect("non-empty");
        let cp = Checkpoint::sign(&key, "k1", &last, Utc::now());
        let i = at.index(entries.len());
        let gone = entries.remove(i);
        let expected = Tamper::Deleted { after_seq: gone.seq - 1 };
        if i < entries.len() {
            prop_assert_eq!(verify(&entries), Err(expected));
        } else {
            prop_assert_eq!(verify(&entries), Ok(()));
        }
        prop_assert_eq!(
            verify_checkpoint(&cp, key.public_key().as_ref(), &entries),
            Err(CheckpointError::Tamper(expected))
        );
    }

    /// A forged entry slipped in before any entry, correctly sealed for itself (with the
    /// right number and link, or any number and link), is reported under its number.
    #[test]
    fn inserting_a_forged_entry_is_reported(
        mut entries in log(10),
        at in any::<prop::sample::Index>(),
        forged in draft(),
        perfect in any::<bool>(),
        seq in 1u64..20,
        link in digest(),
    ) {
        let i = at.index(entries.len());
        let f = if perfect {
            Entry::next(i.checked_sub(1).map(|p| &entries[p]), forged)
        } else {
            Entry::seal(seq, link, forged)
        };
        let seq = f.seq;
        entries.insert(i, f);
        prop_assert_eq!(verify(&entries), Err(Tamper::Inserted { seq }));
    }

    /// An entry replaced by an edited, re-sealed copy breaks the next entry's link; the last
    /// entry replaced so is caught by the checkpoint.
    #[test]
    fn a_resealed_replacement_is_caught_by_the_next_link_or_the_checkpoint(
        mut entries in log(10),
        at in any::<prop::sample::Index>(),
        which in 1usize..11,
    ) {
        let key = key();
        let cp = Checkpoint::sign(&key, "k1", entries.last().expect("non-empty"), Utc::now());
        let i = at.index(entries.len());
        let mut forged = entries[i].clone();
        edit(&mut forged, which);
        entries[i] = Entry::seal(forged.seq, forged.prev_hash, forged.draft);
        if i + 1 < entries.len() {
            let seq = entries[i + 1].seq;
            prop_assert_eq!(verify(&entries), Err(Tamper::Inserted { seq }));
        } else {
            prop_assert_eq!(verify(&entries), Ok(()));
            prop_assert_eq!(
                verify_checkpoint(&cp, key.public_key().as_ref(), &entries),
                Err(CheckpointError::RootMismatch { through_seq: cp.through_seq })
            );
        }
    }

    /// Swapping any two entries is reported where the first of them belongs.
    #[test]
    fn swapping_two_entries_is_reported_as_reordered(
        mut entries in log(10).prop_filter("two entries", |e| e.len() >= 2),
        a in any::<prop::sample::Index>(),
        b in any::<prop::sample::Index>(),
    ) {
        let (x, y) = (a.index(entries.len()), b.index(entries.len()));
        prop_assume!(x != y);
        let (i, j) = (x.min(y), x.max(y));
        let (expected, found) = (entries[i].seq, entries[j].seq);
        entries.swap(i, j);
        prop_assert_eq!(verify(&entries), Err(Tamper::Reordered { expected, found }));
    }

    /// A checkpoint verifies under its key, and not under another key or with any of its
    /// signed fields changed.
    #[test]
    fn checkpoints_verify_only_under_their_key_and_unaltered(entries in log(6), which in 0usize..5) {
        let (key, other) = (key(), key());
        let cp = Checkpoint::sign(&key, "dunning-2026", entries.last().expect("non-empty"), Utc::now());
        prop_assert_eq!(verify_checkpoint(&cp, key.public_key().as_ref(), &entries), Ok(()));
        prop_assert_eq!(
            verify_checkpoint(&cp, other.public_key().as_ref(), &entries),
            Err(CheckpointError::BadSignature)
        );
        let mut altered = cp.clone();
        match which {
            0 => altered.through_seq -= 1,
            1 => altered.root_hash = flip(altered.root_hash),
            2 => altered.at += chrono::Duration::microseconds(1),
            3 => altered.key_id.push('x'),
            _ => altered.signature[0] ^= 1,
        }
        prop_assert_eq!(
            verify_checkpoint(&altered, key.public_key().as_ref(), &entries),
            Err(CheckpointError::BadSignature)
        );
    }

    /// The text forms round-trip, so what the store writes reads back as the same value.
    #[test]
    fn names_and_proofs_round_trip(d in draft()) {
        prop_assert_eq!(Channel::parse(d.channel.as_str()), Some(d.channel));
        prop_assert_eq!(Outcome::parse(d.outcome.as_str()), Some(d.outcome));
        if let Some(p) = &d.delivery_proof {
            prop_assert_eq!(DeliveryProof::parse(p.kind(), &p.value()), Some(p.clone()));
        }
    }
}

fn fixed_draft() -> Draft {
    Draft {
        case_id: Uuid::from_u128(0x0193_0000_0000_7000_8000_0000_0000_0001),
        customer_id: Uuid::from_u128(0x0193_0000_0000_7000_8000_0000_0000_0002),
        channel: Channel::Letter,
        at: Utc
            .with_ymd_and_hms(2026, 12, 3, 9, 30, 0)
            .single()
            .expect("valid"),
        actor: Actor::Principal("collector-7".into()),
        template_id: "notice_1".into(),
        language: "zh-CN".into(),
        content_hash: Digest::of(b"rendered notice"),
        outcome: Outcome::Delivered,
        delivery_proof: Some(DeliveryProof::RegisteredMail("XA123456789CN".into())),
    }
}

/// Pins encoding version 1: if this hash changes, entries already sealed stop verifying.
/// A new encoding needs a new version tag, not an edit of this one.
#[test]
fn encoding_v1_is_pinned() {
    let e = Entry::next(None, fixed_draft());
    assert_eq!(e.prev_hash, Digest::GENESIS);
    // Also computed by a separate script from the README's description of the encoding.
    assert_eq!(
        e.hash.to_hex(),
        "960268c40855cafee761055a1f2eada40870a0d9f1fb5fc80f46695234f4671c"
    );
}

/// Length prefixes keep neighbouring text fields apart: moving a character from the
/// template to the language, or between proof kinds' values, changes the hash.
#[test]
fn field_boundaries_are_unambiguous() {
    let a = fixed_draft();
    let mut b = a.clone();
    (b.template_id, b.language) = ("notice_1z".into(), "h-CN".into());
    assert_ne!(canonical(1, &a), canonical(1, &b));
    let mut c = a.clone();
    c.actor = Actor::Principal(String::new());
    let mut d = a.clone();
    d.actor = Actor::System;
    assert_ne!(canonical(1, &c), canonical(1, &d));
    let mut s = a.clone();
    s.delivery_proof = Some(DeliveryProof::SmtpMessageId("XA123456789CN".into()));
    assert_ne!(canonical(1, &a), canonical(1, &s));
}

#[test]
fn digests_parse_from_hex_and_bytes_only_at_full_length() {
    let d = Digest::of(b"x");
    assert_eq!(Digest::from_hex(&d.to_hex()), Some(d));
    assert_eq!(Digest::from_slice(&d.0), Some(d));
    assert_eq!(Digest::from_hex("abcd"), None);
    assert_eq!(Digest::from_slice(&[0; 31]), None);
}

/// R-L7: which contacts restart the limitation period.
#[test]
fn a_demand_counts_once_it_reached_the_debtor_on_a_debtor_channel() {
    for channel in [
        Channel::Sms,
        Channel::Email,
        Channel::Letter,
        Channel::LawyerLetter,
    ] {
        assert!(
            demand_reached_debtor(channel, Outcome::Delivered),
            "{channel:?}"
        );
        assert!(
            !demand_reached_debtor(channel, Outcome::Sent),
            "{channel:?}"
        );
        assert!(
            !demand_reached_debtor(channel, Outcome::Returned),
            "{channel:?}"
        );
    }
    assert!(demand_reached_debtor(Channel::PhoneCall, Outcome::Answered));
    assert!(demand_reached_debtor(Channel::Visit, Outcome::PromiseMade));
    assert!(demand_reached_debtor(Channel::PhoneCall, Outcome::Disputed));
    assert!(!demand_reached_debtor(
        Channel::PhoneCall,
        Outcome::NoAnswer
    ));
    assert!(!demand_reached_debtor(
        Channel::PhoneCall,
        Outcome::WrongNumber
    ));
    for outcome in Outcome::ALL {
        assert!(!demand_reached_debtor(Channel::LitigationHandoff, *outcome));
        assert!(!demand_reached_debtor(
            Channel::PaymentOrderRequest,
            *outcome
        ));
    }
}
