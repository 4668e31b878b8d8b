//! The store on a real PostgreSQL server, beside SQLite: the same behaviour on both
//! (call records, the demo customers and their tools' writes, resets), the same
//! schema from both migration sets, replicas that never refund one charge twice, a
//! dead replica's calls closed by the next start on its host, and two real server
//! processes sharing records through one database.
//!
//! The server is the throwaway cluster `scripts/postgres.sh` starts (the test command
//! does): its URL comes in `SB_TEST_POSTGRES_URL`, and each test makes a database of
//! its own. Without the variable these tests say so and pass, unless
//! `SB_REQUIRE_POSTGRES=1` (set by the test command), where its absence fails them.

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::json;
use switchboard::store::calls::{CallUpdate, NewCall, TranscriptLine};
use switchboard::store::customers;
use switchboard::store::{Dialect, Store};

use crate::process::{listen, media, send, start_call, write_config_with_store, Server};

/// A new empty database on the test server, as a URL; `None` when there is no server.
async fn fresh_database() -> Option<String> {
    let Ok(admin) = std::env::var("SB_TEST_POSTGRES_URL") else {
        assert!(
            std::env::var("SB_REQUIRE_POSTGRES").is_err(),
            "SB_REQUIRE_POSTGRES is set but SB_TEST_POSTGRES_URL is not: start the server with scripts/postgres.sh"
        );
        eprintln!("skipped: no PostgreSQL (run scripts/test.sh, or set SB_TEST_POSTGRES_URL from scripts/postgres.sh start)");
        return None;
    };
    let mut random = [0u8; 6];
    getrandom::fill(&mut random).unwrap();
    let name = format!("sb_{}", hex::encode(random));
    let url = admin.clone();
    let create = format!("CREATE DATABASE {name}");
    tokio::task::spawn_blocking(move || {
        let mut client = postgres::Client::connect(&url, postgres::NoTls).expect("test server");
        client.batch_execute(&create).expect("create database");
    })
    .await
    .unwrap();
    // …/postgres?sslmode=disable → …/sb_xxx?sslmode=disable
    let (base, query) = admin.split_once('?').unwrap_or((&admin, ""));
    let (server, _) = base.rsplit_once('/').expect("URL with a database");
    Some(format!("{server}/{name}?{query}"))
}

async fn open_postgres(url: &str) -> Store {
    let url = url.to_string();
    tokio::task::spawn_blocking(move || Store::open_postgres(&url, 4, None).expect("open"))
        .await
        .unwrap()
}

fn call(sid: &str) -> NewCall {
    NewCall {
        call_sid: sid.into(),
        stream_sid: format!("MZ{sid}"),
        account_sid: "ACpg".into(),
        from: "+15551230001".into(),
        to: "+18005550100".into(),
        ..NewCall::default()
    }
}

/// Everything the server asks of the store, with the answers it expects.
async fn exercise(store: &Store) {
    let what = format!("{:?}", store.dialect());
    // Call records.
    store.call_started(call("CA1")).await.unwrap();
    store.call_started(call("CA2")).await.unwrap();
    let again = store.call_started(call("CA1")).await.unwrap_err();
    assert!(
        matches!(again, switchboard::store::StoreError::CallExists(_)),
        "{what}: {again}"
    );
    let update = CallUpdate {
        frames_in: 50,
        frames_out: 70,
        errors: 1,
        agents: vec!["triage".into(), "billing".into()],
        transcript: vec![TranscriptLine {
            speaker: "caller".into(),
            agent: Some("triage".into()),
            text: "my card is 4111 1111 1111 1111".into(),
            interrupted: false,
        }],
        trace: json!({"handoffs": [{"from": "triage", "to": "billing"}]}),
        recording: Some("/rec/CA1.wav".into()),
        outcome: None,
    };
    store.call_updated("CA1", update.clone()).await.unwrap();
    let live = store.call("CA1").await.unwrap().unwrap();
    assert_eq!(
        (live.outcome.as_deref(), live.ended_at.as_deref()),
        (None, None),
        "{what}"
    );
    assert_eq!(live.frames_out, 70, "{what}");
    assert!(
        !live.transcript[0].text.contains("1111 1111 1111 1111"),
        "{what}: masked"
    );
    let done = CallUpdate {
        outcome: Some("completed".into()),
        recording: None,
        ..update
    };
    store.call_updated("CA1", done).await.unwrap();
    let rec = store.call("CA1").await.unwrap().unwrap();
    assert_eq!(rec.outcome.as_deref(), Some("completed"), "{what}");
    assert!(rec.ended_at.is_some(), "{what}");
    assert_eq!(
        rec.recording.as_deref(),
        Some("/rec/CA1.wav"),
        "{what}: kept"
    );
    assert_eq!(rec.agents, ["triage", "billing"], "{what}");
    assert_eq!(rec.trace["handoffs"][0]["to"], "billing", "{what}");
    let recent = store.recent_calls(10).await.unwrap();
    let sids: Vec<_> = recent.iter().map(|c| c.call_sid.as_str()).collect();
    assert_eq!(sids, ["CA2", "CA1"], "{what}: newest first");
    store
        .recordings_deleted(vec!["/rec/CA1.wav".into()])
        .await
        .unwrap();
    assert_eq!(
        store.call("CA1").await.unwrap().unwrap().recording,
        None,
        "{what}"
    );
    assert!(store.call("CAnone").await.unwrap().is_none(), "{what}");

    // The demo customers and what the tools write.
    let (dana, dups, refund, twice, plan, ticket, reset_id, status, all) = store
        .run(|db| {
            let dana = customers::customer_by_phone(db, "(555) 123-0001")?.expect("dana");
            let dups = customers::duplicate_charges(db, dana.id)?;
            let refund = customers::create_refund(db, dana.id, 1004, None, "duplicate")?;
            let twice = customers::create_refund(db, dana.id, 1004, None, "duplicate")?;
            let plan = customers::change_plan(db, 4, "pro")?;
            let ticket = customers::open_ticket(db, Some(4), "technical", "slow wifi")?;
            let reset_id = customers::record_password_reset(db, 4, "email")?;
            let status = customers::service_status(db, Some("RIVERSIDE"))?;
            let all = customers::service_status(db, None)?;
            Ok((
                dana, dups, refund, twice, plan, ticket, reset_id, status, all,
            ))
        })
        .await
        .unwrap();
    assert_eq!(dana.plan.code, "plus", "{what}");
    assert_eq!(dups[0].refundable_ids, [1004], "{what}");
    assert_eq!(refund.expect("refund").amount_cents, 5999, "{what}");
    assert!(twice.is_err(), "{what}: refunded once");
    let (old, new) = plan.expect("plan change");
    assert_eq!(
        (old.code.as_str(), new.code.as_str()),
        ("basic", "pro"),
        "{what}"
    );
    assert!(
        ticket.id > 1,
        "{what}: ids continue after the seeded rows ({})",
        ticket.id
    );
    assert_eq!(ticket.customer_id, Some(4), "{what}");
    assert!(reset_id >= 1, "{what}");
    assert_eq!(status[0].status, "degraded", "{what}");
    assert_eq!(all.len(), 5, "{what}");
    let charge = store
        .run(|db| customers::charge(db, 1, 1004))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(charge.refunded_cents, 5999, "{what}");

    // A reset puts the demo data back and keeps the call records.
    store.reset_customer_data().await.unwrap();
    let dups = store
        .run(|db| customers::duplicate_charges(db, 1))
        .await
        .unwrap();
    assert_eq!(dups[0].refundable_ids, [1004], "{what}: reseeded");
    let t = store
        .run(|db| customers::open_ticket(db, None, "callback", "call me back"))
        .await
        .unwrap();
    assert_eq!(t.id, 2, "{what}: ids start over after a reset");
    assert!(
        store.call("CA1").await.unwrap().is_some(),
        "{what}: records kept"
    );
}

#[tokio::test]
async fn the_store_behaves_alike_on_sqlite_and_postgres() {
    let Some(url) = fresh_database().await else {
        return;
    };
    let sqlite = Store::open_in_memory().unwrap();
    exercise(&sqlite).await;
    let pg = open_postgres(&url).await;
    assert_eq!(pg.dialect(), Dialect::Postgres);
    exercise(&pg).await;
    // Re-opening applies no migration twice.
    open_postgres(&url).await;
}

/// Table → column names, from either engine.
async fn schema(store: &Store) -> BTreeMap<String, Vec<String>> {
    let sql = match store.dialect() {
        Dialect::Sqlite => {
            "SELECT m.name, p.name FROM sqlite_master m JOIN pragma_table_info(m.name) p
             WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' ORDER BY m.name, p.cid"
        }
        Dialect::Postgres => {
            "SELECT CAST(table_name AS TEXT), CAST(column_name AS TEXT)
             FROM information_schema.columns
             WHERE table_schema = 'public' AND table_name != 'schema_migrations'
             ORDER BY table_name, ordinal_position"
        }
    };
    let rows = store.run(move |db| db.query(sql, &[])).await.unwrap();
    let mut tables: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for r in rows {
        tables
            .entry(r.get::<String>(0).unwrap())
            .or_default()
            .push(r.get(1).unwrap());
    }
    tables
}

#[tokio::test]
async fn both_migration_sets_build_the_same_schema() {
    let Some(url) = fresh_database().await else {
        return;
    };
    let sqlite = schema(&Store::open_in_memory().unwrap()).await;
    let pg = schema(&open_postgres(&url).await).await;
    assert!(sqlite.len() >= 10, "{sqlite:?}");
    assert_eq!(sqlite, pg);
}

#[tokio::test]
async fn a_refund_waits_for_another_replica_s_refund_of_the_same_charge() {
    let Some(url) = fresh_database().await else {
        return;
    };
    let store = open_postgres(&url).await;
    // Another replica is refunding charge 1004 in an open transaction…
    let (locked_tx, locked_rx) = std::sync::mpsc::channel();
    let other_url = url.clone();
    let other = std::thread::spawn(move || {
        let mut client = postgres::Client::connect(&other_url, postgres::NoTls).unwrap();
        let mut tx = client.transaction().unwrap();
        tx.query("SELECT id FROM charges WHERE id = 1004 FOR UPDATE", &[])
            .unwrap();
        tx.execute(
            "INSERT INTO refunds (charge_id, amount_cents, reason, created_at)
             VALUES (1004, 5999, 'other replica', '2026-03-13')",
            &[],
        )
        .unwrap();
        locked_tx.send(()).unwrap();
        std::thread::sleep(Duration::from_millis(400));
        tx.commit().unwrap();
    });
    locked_rx.recv().unwrap();
    // …so ours waits for it, then sees the charge fully refunded.
    let ours = store
        .run(|db| customers::create_refund(db, 1, 1004, None, "duplicate"))
        .await
        .unwrap();
    other.join().unwrap();
    assert!(ours.is_err(), "refunded twice: {ours:?}");
    let charge = store
        .run(|db| customers::charge(db, 1, 1004))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(charge.refunded_cents, 5999);
}

#[tokio::test]
async fn a_dead_replica_s_calls_are_closed_by_the_next_start_and_a_live_one_s_are_not() {
    let Some(url) = fresh_database().await else {
        return;
    };
    let live = open_postgres(&url).await;
    live.instance_started("interrupted").await.unwrap();
    live.call_started(call("CAlive")).await.unwrap();
    let dead = open_postgres(&url).await;
    dead.instance_started("interrupted").await.unwrap();
    dead.call_started(call("CAdead")).await.unwrap();
    // The process ends: its connections close and its liveness lock is free.
    drop(dead);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let next = open_postgres(&url).await;
    assert_eq!(next.instance_started("interrupted").await.unwrap(), 1);
    let closed = next.call("CAdead").await.unwrap().unwrap();
    assert_eq!(closed.outcome.as_deref(), Some("interrupted"));
    assert!(closed.ended_at.is_some());
    let still = next.call("CAlive").await.unwrap().unwrap();
    assert_eq!((still.outcome, still.ended_at), (None, None));
}

#[tokio::test]
async fn two_server_processes_share_call_records_through_postgres() {
    let Some(url) = fresh_database().await else {
        return;
    };
    let store = format!("database_url = {url:?}");
    let (dir_a, dir_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let config_a = write_config_with_store(dir_a.path(), 5, &store);
    let config_b = write_config_with_store(dir_b.path(), 5, &store);
    let mut a = Server::start(dir_a.path(), &config_a).await;
    let mut b = Server::start(dir_b.path(), &config_b).await;

    // A call served by A…
    let mut ws = a.connect().await.unwrap();
    start_call(&mut ws, "CAshared").await;
    for n in 0..25 {
        media(&mut ws, "CAshared", n).await;
    }
    listen(&mut ws, 800).await;
    // …cannot get a second stream on B while it is live (one record per CallSid)…
    let mut dup = b.connect().await.unwrap();
    start_call(&mut dup, "CAshared").await;
    let (frames, closed) = listen(&mut dup, 3000).await;
    assert!(
        closed && frames == 0,
        "second stream refused: {frames} frames"
    );
    send(
        &mut ws,
        json!({"event":"stop","sequenceNumber":"99","streamSid":"MZCAshared",
        "stop":{"accountSid":"ACproc","callSid":"CAshared"}}),
    )
    .await;
    listen(&mut ws, 800).await;

    // …and its record is read from B.
    let get = |server: &Server| format!("http://{}/calls/CAshared", server.addr);
    let mut rec = serde_json::Value::Null;
    for _ in 0..50 {
        rec = reqwest::get(get(&b)).await.unwrap().json().await.unwrap();
        if rec["outcome"].is_string() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(rec["outcome"], "completed", "{rec}");
    assert!(rec["framesIn"].as_u64().unwrap() >= 25, "{rec}");
    let listed: serde_json::Value = reqwest::get(format!("http://{}/calls", b.addr))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(listed.to_string().contains("CAshared"), "{listed}");

    // A killed replica's live call is closed by the next start on its host.
    let mut ws = a.connect().await.unwrap();
    start_call(&mut ws, "CAkilled").await;
    listen(&mut ws, 500).await;
    a.signal("-KILL");
    assert_eq!(a.exit_code(Duration::from_secs(5)).await, None);
    let mut a2 = Server::start(dir_a.path(), &config_a).await;
    let rec: serde_json::Value = reqwest::get(format!("http://{}/calls/CAkilled", b.addr))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(rec["outcome"], "interrupted", "{rec}");
    for server in [&mut a2, &mut b] {
        server.signal("-TERM");
        assert_eq!(server.exit_code(Duration::from_secs(10)).await, Some(0));
    }
}
