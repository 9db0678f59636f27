//! Tests of the import file's reading, the calls' signings and keys, and refusals.

use super::*;

const LINE: &str = r#"{"customer": {"name": "王五", "kind": "person", "payer_accounts": ["6222021000000001"]}, "contract": {"contract_no": "HT-1", "currency": "CNY", "escrow_account": "1100", "installments": [{"amount": "1000.00", "due_date": "2027-01-10", "kind": "down_payment"}], "late_fee_policy": {"name": "1 per mille a day", "accrual": {"kind": "flat_daily", "daily_rate": "1‰"}}, "allocation_order": [["principal"], ["late_fee", "interest"], ["costs"]]}}"#;

#[test]
fn a_line_becomes_the_signing_the_service_takes() {
    let parsed = parse(&format!("# portfolio\n\n{LINE}\n")).expect("parses");
    assert_eq!(parsed.len(), 1);
    let Read {
        line_no, signing, ..
    } = &parsed[0];
    assert_eq!(*line_no, 3);
    let customer = signing.customer.as_ref().expect("a new customer");
    assert_eq!(customer.kind, api::CustomerKind::Person as i32);
    let contract = signing.contract.as_ref().expect("a contract");
    assert_eq!(
        contract.installments[0].kind,
        types::ScheduleItemKind::DownPayment as i32
    );
    let policy: serde_json::Value =
        serde_json::from_str(&contract.late_fee_policy).expect("the policy is JSON");
    assert_eq!(policy["accrual"]["daily_rate"], "1‰");
    let order = contract.allocation_order.as_ref().expect("an order");
    assert_eq!(order.ranks.len(), 3);
    assert_eq!(
        order.ranks[1].components,
        [
            types::Component::LateFee as i32,
            types::Component::Interest as i32
        ]
    );
}

#[test]
fn a_wrong_line_is_named_with_what_is_wrong() {
    let number = LINE.replace(r#""amount": "1000.00""#, r#""amount": 1000.00"#);
    let (line, why) = parse(&format!("{LINE}\n{number}\n")).expect_err("refused");
    assert_eq!(line, 2);
    assert!(why.contains("are strings"), "{why}");

    let kind = LINE.replace(r#""kind": "person""#, r#""kind": "robot""#);
    let (line, why) = parse(&kind).expect_err("refused");
    assert_eq!(line, 1);
    assert!(
        why.contains("customer.kind") && why.contains("robot"),
        "{why}"
    );

    let typo = LINE.replace("escrow_account", "escrow_acount");
    let (_, why) = parse(&typo).expect_err("refused");
    assert!(why.contains("escrow_acount"), "{why}");

    let both = LINE.replace(r#""contract_no""#, r#""customer_id": "x", "contract_no""#);
    let (_, why) = parse(&both).expect_err("refused");
    assert!(why.contains("contract.customer_id"), "{why}");

    assert_eq!(parse("\n# nothing\n").err().map(|e| e.0), Some(0));
}

/// A line with a new customer named `reference`, contract `no`.
fn new_customer(reference: &str, no: &str) -> String {
    LINE.replace("HT-1", no).replace(
        r#"{"customer""#,
        &format!(r#"{{"customer_ref": "{reference}", "customer""#),
    )
}

/// A line signing contract `no` for the new customer of an earlier line.
fn also_for(reference: &str, no: &str) -> String {
    format!(
        r#"{{"customer_ref": "{reference}", "contract": {{"contract_no": "{no}", "currency": "CNY", "escrow_account": "1100", "installments": [{{"amount": "80.00", "due_date": "2027-02-10"}}]}}}}"#
    )
}

#[test]
fn a_customer_ref_signs_a_second_contract_for_an_earlier_lines_new_customer_r_o5() {
    let text = [
        new_customer("C1", "HT-1"),
        new_customer("C2", "HT-2"),
        also_for("C1", "HT-1P"),
        also_for("C2", "HT-2P"),
    ]
    .join("\n");
    let lines = parse(&text).expect("parses");
    assert_eq!(
        lines.iter().map(|l| l.customer_of).collect::<Vec<_>>(),
        [None, None, Some(0), Some(1)]
    );
    assert!(lines[2].signing.customer.is_none());

    // All in one call: the service is told the place (from 1) of the signing that
    // brings the customer.
    let one_call = call_signings(&lines, 0, &[]);
    assert_eq!(
        one_call.iter().map(|s| s.customer_of).collect::<Vec<_>>(),
        [0, 0, 1, 2]
    );
    // Calls of three: the fourth line's customer came in the first call, so it goes
    // as a known customer with the id that call answered; places count from the call.
    let first = call_signings(&lines[..3], 0, &[]);
    assert_eq!(first[2].customer_of, 1);
    let answered = ["c-1".to_owned(), "c-2".to_owned(), "c-1".to_owned()];
    let second = call_signings(&lines[3..], 3, &answered);
    assert_eq!(second[0].customer_of, 0);
    assert_eq!(
        second[0].contract.as_ref().map(|c| c.customer_id.as_str()),
        Some("c-2")
    );
    // A later call: places count from the start of that call.
    let later = call_signings(&lines[1..4], 1, &answered[..1]);
    assert_eq!(
        later.iter().map(|s| s.customer_of).collect::<Vec<_>>(),
        [0, 0, 1]
    );
    assert_eq!(
        later[1].contract.as_ref().map(|c| c.customer_id.as_str()),
        Some("c-1")
    );
    // A customer signing in a call of its own and its second contract in the next one.
    let split = call_signings(&lines[2..3], 2, &answered[..2]);
    assert_eq!(
        split[0].contract.as_ref().map(|c| c.customer_id.as_str()),
        Some("c-1")
    );
}

#[test]
fn a_customer_ref_that_names_nothing_is_named_by_its_line() {
    let (line, why) = parse(&format!(
        "{}\n{}",
        new_customer("C1", "HT-1"),
        also_for("C9", "HT-9")
    ))
    .expect_err("refused");
    assert_eq!(line, 2);
    assert!(
        why.contains("\"C9\"") && why.contains("no line before"),
        "{why}"
    );

    // Only an earlier line: a reference to a later one is refused.
    let (line, _) = parse(&format!(
        "{}\n{}",
        also_for("C1", "HT-1P"),
        new_customer("C1", "HT-1")
    ))
    .expect_err("refused");
    assert_eq!(line, 1);

    let (line, why) = parse(&format!(
        "{}\n{}",
        new_customer("C1", "HT-1"),
        new_customer("C1", "HT-2")
    ))
    .expect_err("refused");
    assert_eq!(line, 2);
    assert!(why.contains("line 1's new customer"), "{why}");

    let both =
        also_for("C1", "HT-1P").replace(r#""contract_no""#, r#""customer_id": "x", "contract_no""#);
    let (line, why) =
        parse(&format!("{}\n{both}", new_customer("C1", "HT-1"))).expect_err("refused");
    assert_eq!(line, 2);
    assert!(why.contains("customer_ref"), "{why}");
}

#[test]
fn the_same_lines_are_the_same_key_and_other_lines_another() {
    let one = parse(LINE).expect("parses");
    let other = parse(&LINE.replace("HT-1", "HT-2")).expect("parses");
    assert_eq!(chunk_key(&one), chunk_key(&parse(LINE).expect("parses")));
    assert_ne!(chunk_key(&one), chunk_key(&other));
    assert!(chunk_key(&one).len() <= 200);
}

#[test]
fn a_refusal_names_the_line_of_the_signing() {
    let lines = parse(&format!("{LINE}\n\n{}", LINE.replace("HT-1", "HT-2"))).expect("parses");
    let failure = refused(
        tonic::Status::invalid_argument("signings[1].contract.currency: unknown"),
        &lines,
        1000,
    );
    let text = failure.describe();
    assert!(text.contains("line 3: signings[1]"), "{text}");
    assert!(text.contains("the 1000 signings before line 1"), "{text}");
    let hint = failure.hint_text().unwrap_or_default();
    assert!(
        hint.contains("correct line 3") && hint.contains("same command"),
        "{hint}"
    );
}
