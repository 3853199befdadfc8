//! The idempotency-key store on its own: who wins a key, what the others learn, and how keys expire; on
//! the autocommit path (claim, complete, release) and on the one-transaction path (take, keep).

use chrono::{TimeDelta, Utc};
use futures::future::join_all;
use migration::testkit::{Backend, TestDb};
use sea_orm::TransactionTrait;
use service::idempotency::{self, Answer, Claim, Scope, Taken, Terms};

migration::backend_tests!(
    the_first_claim_wins_and_the_others_learn_why_not,
    fifty_racing_claims_of_one_key_have_one_winner,
    an_expired_or_abandoned_key_can_be_taken_again,
    a_sweep_deletes_expired_keys_a_bounded_batch_at_a_time,
    a_taken_key_keeps_its_answer_with_the_transaction_or_not_at_all,
    every_slot_a_key_can_map_to_exists,
);

const DAY: Terms = Terms { ttl: TimeDelta::days(1), lease: TimeDelta::minutes(1) };

fn scope(key: &str) -> Scope<'_> {
    Scope { caller: "librarian-1", operation: "checkOutBook", key }
}

fn answer() -> Answer {
    Answer { status: 201, headers: r#"{"location":"/loans/1"}"#.to_owned(), body: b"{\"id\":1}".to_vec() }
}

async fn the_first_claim_wins_and_the_others_learn_why_not(db: TestDb) {
    let db = &db.conn;
    assert_eq!(idempotency::claim(db, scope("k"), b"request", DAY).await.unwrap(), Claim::Claimed);
    assert_eq!(idempotency::claim(db, scope("k"), b"request", DAY).await.unwrap(), Claim::InFlight);
    assert_eq!(idempotency::claim(db, scope("k"), b"another", DAY).await.unwrap(), Claim::Mismatch);
    idempotency::complete(db, scope("k"), answer()).await.unwrap();
    assert_eq!(idempotency::claim(db, scope("k"), b"request", DAY).await.unwrap(), Claim::Replay(answer()));
    let elsewhere = Scope { caller: "librarian-2", ..scope("k") };
    assert_eq!(idempotency::claim(db, elsewhere, b"request", DAY).await.unwrap(), Claim::Claimed);
    idempotency::release(db, elsewhere).await.unwrap();
    assert_eq!(idempotency::find(db, elsewhere).await.unwrap(), None, "a released key is gone");
    idempotency::release(db, scope("k")).await.unwrap();
    assert!(idempotency::find(db, scope("k")).await.unwrap().is_some(), "a kept answer is never released");
    assert_eq!(
        idempotency::claim(db, scope("K"), b"request", DAY).await.unwrap(),
        Claim::Claimed,
        "keys are case-sensitive"
    );
}

async fn fifty_racing_claims_of_one_key_have_one_winner(db: TestDb) {
    let claims = (0..50).map(|_| {
        let conn = db.conn.clone();
        tokio::spawn(async move { idempotency::claim(&conn, scope("race"), b"request", DAY).await })
    });
    let outcomes: Vec<Claim> = join_all(claims).await.into_iter().map(|c| c.unwrap().unwrap()).collect();
    assert_eq!(outcomes.iter().filter(|c| **c == Claim::Claimed).count(), 1);
    assert!(outcomes.iter().all(|c| matches!(c, Claim::Claimed | Claim::InFlight)), "{outcomes:?}");
}

async fn an_expired_or_abandoned_key_can_be_taken_again(db: TestDb) {
    let db = &db.conn;
    let gone = Terms { ttl: TimeDelta::zero(), lease: TimeDelta::minutes(1) };
    idempotency::claim(db, scope("short"), b"first", gone).await.unwrap();
    idempotency::complete(db, scope("short"), answer()).await.unwrap();
    assert_eq!(
        idempotency::claim(db, scope("short"), b"second", DAY).await.unwrap(),
        Claim::Claimed,
        "an expired key is a new key, whatever it was used for"
    );
    let row = idempotency::find(db, scope("short")).await.unwrap().unwrap();
    assert_eq!((row.fingerprint, row.status), (b"second".to_vec(), None));

    let no_lease = Terms { ttl: TimeDelta::days(1), lease: TimeDelta::zero() };
    idempotency::claim(db, scope("crashed"), b"request", DAY).await.unwrap();
    let takers =
        join_all((0..10).map(|_| idempotency::claim(db, scope("crashed"), b"request", no_lease))).await;
    let won = takers.iter().filter(|c| matches!(c, Ok(Claim::Claimed))).count();
    assert!(won >= 1, "an abandoned key is taken over: {takers:?}");
    assert_eq!(
        idempotency::claim(db, scope("crashed"), b"request", DAY).await.unwrap(),
        Claim::InFlight,
        "within its lease the new holder keeps it"
    );
}

async fn a_sweep_deletes_expired_keys_a_bounded_batch_at_a_time(db: TestDb) {
    let db = &db.conn;
    let gone = Terms { ttl: TimeDelta::zero(), lease: TimeDelta::minutes(1) };
    let keys: Vec<String> = (0..25).map(|n| format!("old-{n:02}")).collect();
    for key in &keys {
        idempotency::claim(db, scope(key), b"r", gone).await.unwrap();
    }
    idempotency::claim(db, scope("live"), b"r", DAY).await.unwrap();
    let now = Utc::now() + TimeDelta::seconds(1);
    assert_eq!(idempotency::sweep(db, now, 10).await.unwrap(), 10);
    assert_eq!(idempotency::count(db).await.unwrap(), 16);
    assert!(idempotency::find(db, scope("old-00")).await.unwrap().is_none(), "oldest first");
    assert_eq!(idempotency::sweep(db, now, 100).await.unwrap(), 15);
    assert_eq!(idempotency::sweep(db, now, 100).await.unwrap(), 0);
    assert!(idempotency::find(db, scope("live")).await.unwrap().is_some(), "a live key stays");
}

async fn a_taken_key_keeps_its_answer_with_the_transaction_or_not_at_all(db: TestDb) {
    let (db, lease) = (&db.conn, DAY.lease);
    let now = Utc::now();
    let txn = db.begin().await.unwrap();
    let Taken::Ours(held) = idempotency::take(&txn, scope("k"), b"request", now, lease).await.unwrap() else {
        panic!("a new key is ours");
    };
    assert!(idempotency::keep(&txn, held, scope("k"), b"request", answer(), now, DAY.ttl).await.unwrap());
    txn.rollback().await.unwrap();
    assert_eq!(idempotency::find(db, scope("k")).await.unwrap(), None, "rolled back with the operation");

    let txn = db.begin().await.unwrap();
    let Taken::Ours(held) = idempotency::take(&txn, scope("k"), b"request", now, lease).await.unwrap() else {
        panic!("a rolled-back key is free");
    };
    assert!(
        idempotency::keep(&txn, held, scope("k"), b"request", answer(), now, TimeDelta::zero())
            .await
            .unwrap()
    );
    txn.commit().await.unwrap();

    let later = Utc::now() + TimeDelta::seconds(1);
    let txn = db.begin().await.unwrap();
    let taken = idempotency::take(&txn, scope("k"), b"another", later, lease).await.unwrap();
    let Taken::Ours(held) = taken else { panic!("an expired key is a new key: {taken:?}") };
    assert!(idempotency::keep(&txn, held, scope("k"), b"another", answer(), later, DAY.ttl).await.unwrap());
    txn.commit().await.unwrap();
    let row = idempotency::find(db, scope("k")).await.unwrap().unwrap();
    assert_eq!(
        (row.fingerprint, row.status),
        (b"another".to_vec(), Some(201)),
        "the expired row is replaced"
    );

    let txn = db.begin().await.unwrap();
    let replay = idempotency::take(&txn, scope("k"), b"another", later, lease).await.unwrap();
    assert_eq!(replay, Taken::Replay(answer()));
    assert_eq!(idempotency::take(&txn, scope("k"), b"request", later, lease).await.unwrap(), Taken::Mismatch);
    txn.rollback().await.unwrap();
    assert_eq!(idempotency::count(db).await.unwrap(), 1);
}

async fn every_slot_a_key_can_map_to_exists(db: TestDb) {
    use sea_orm::{EntityTrait, PaginatorTrait};
    let slots = entity::idempotency_slot::Entity::find().count(&db.conn).await.unwrap();
    assert_eq!(slots, u64::from(entity::idempotency_slot::COUNT.unsigned_abs()));
}

/// Row locks that answer at once are PostgreSQL's part (SQLite runs one transaction at a time).
mod postgres_slot_locks {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn while_one_transaction_holds_a_key_every_other_is_told_it_is_in_flight() {
        let Some(db) = TestDb::migrated(Backend::Postgres).await else { return };
        let (db, lease, now) = (&db.conn, DAY.lease, Utc::now());
        let first = db.begin().await.unwrap();
        let taken = idempotency::take(&first, scope("race"), b"request", now, lease).await.unwrap();
        let Taken::Ours(held) = taken else { panic!("the first takes the key: {taken:?}") };
        let others = (0..20).map(|_| async {
            let txn = db.begin().await.unwrap();
            let taken = idempotency::take(&txn, scope("race"), b"request", now, lease).await.unwrap();
            txn.rollback().await.unwrap();
            taken
        });
        let others = join_all(others).await;
        assert!(others.iter().all(|t| *t == Taken::InFlight), "{others:?}");

        let another_key = db.begin().await.unwrap();
        let free = idempotency::take(&another_key, scope("other"), b"request", now, lease).await.unwrap();
        assert!(matches!(free, Taken::Ours(_)), "other keys are not held up: {free:?}");
        another_key.rollback().await.unwrap();

        assert!(
            idempotency::keep(&first, held, scope("race"), b"request", answer(), now, DAY.ttl).await.unwrap()
        );
        first.commit().await.unwrap();
        let txn = db.begin().await.unwrap();
        let after = idempotency::take(&txn, scope("race"), b"request", now, lease).await.unwrap();
        assert_eq!(after, Taken::Replay(answer()), "once committed, the answer is there for the next");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn keep_says_so_when_another_answer_got_there_first() {
        let Some(db) = TestDb::migrated(Backend::Postgres).await else { return };
        let (db, now) = (&db.conn, Utc::now());
        let txn = db.begin().await.unwrap();
        let taken = idempotency::take(&txn, scope("late"), b"request", now, DAY.lease).await.unwrap();
        let Taken::Ours(held) = taken else { panic!("a new key is ours: {taken:?}") };
        // Another request's row, committed after our read (as when its commit and our lock crossed).
        assert_eq!(idempotency::claim(db, scope("late"), b"request", DAY).await.unwrap(), Claim::Claimed);
        let kept = idempotency::keep(&txn, held, scope("late"), b"request", answer(), now, DAY.ttl).await;
        assert!(!kept.unwrap(), "the other row stays, and we are told");
    }
}
