use super::*;
use crate::store::Store;

fn store() -> Store {
    Store::open_in_memory().expect("store")
}

#[test]
fn finds_customer_by_any_phone_format() {
    let s = store();
    let c = s
        .run_blocking(|c| customer_by_phone(c, "(555) 123-0001"))
        .unwrap()
        .expect("dana");
    assert_eq!(c.name, "Dana Whitfield");
    assert_eq!(c.plan.code, "plus");
    assert!(s
        .run_blocking(|c| customer_by_phone(c, "+15559999999"))
        .unwrap()
        .is_none());
}

#[tokio::test]
async fn resetting_the_demo_data_undoes_a_refund_and_keeps_the_schema() {
    let s = store();
    s.run_blocking(|c| create_refund(c, 1, 1004, None, "duplicate"))
        .unwrap()
        .expect("refund");
    s.reset_customer_data().await.unwrap();
    let dups = s.run_blocking(|c| duplicate_charges(c, 1)).unwrap();
    assert_eq!(dups[0].refundable_ids, vec![1004]);
    // Twice in a row is fine too.
    s.reset_customer_data().await.unwrap();
    assert_eq!(
        s.run_blocking(|c| duplicate_charges(c, 1)).unwrap().len(),
        1
    );
}

#[test]
fn detects_the_march_12_double_charge_and_refunds_once() {
    let s = store();
    let dups = s.run_blocking(|c| duplicate_charges(c, 1)).unwrap();
    assert_eq!(dups.len(), 1);
    assert_eq!(dups[0].charged_on, "2026-03-12");
    assert_eq!(dups[0].charge_ids, vec![1003, 1004]);
    assert_eq!(dups[0].refundable_ids, vec![1004]);
    let r = s
        .run_blocking(|c| create_refund(c, 1, 1004, None, "duplicate"))
        .unwrap()
        .expect("refund");
    assert_eq!(r.amount_cents, 5999);
    let again = s
        .run_blocking(|c| create_refund(c, 1, 1004, None, "duplicate"))
        .unwrap();
    assert!(again.is_err());
    assert!(s.run_blocking(|c| duplicate_charges(c, 1)).unwrap()[0]
        .refundable_ids
        .is_empty());
    // Another customer's charge is refused.
    assert!(s
        .run_blocking(|c| create_refund(c, 2, 1003, None, "x"))
        .unwrap()
        .is_err());
    assert!(s
        .run_blocking(|c| duplicate_charges(c, 2))
        .unwrap()
        .is_empty());
}

#[test]
fn changes_plan_and_opens_tickets() {
    let s = store();
    let (old, new) = s
        .run_blocking(|c| change_plan(c, 4, "Plus"))
        .unwrap()
        .expect("change");
    assert_eq!((old.code.as_str(), new.code.as_str()), ("basic", "plus"));
    assert!(s
        .run_blocking(|c| change_plan(c, 4, "plus"))
        .unwrap()
        .is_err());
    let t = s
        .run_blocking(|c| open_ticket(c, Some(4), "technical", "slow wifi"))
        .unwrap();
    assert_eq!(t.status, "open");
    let st = s
        .run_blocking(|c| service_status(c, Some("riverside")))
        .unwrap();
    assert_eq!(st[0].status, "degraded");
    assert_eq!(dollars(5999), "$59.99");
}
