//! The idempotency-key store on its own: who wins a key, what the others learn, and how keys expire.

use chrono::{TimeDelta, Utc};
use futures::future::join_all;
use migration::testkit::TestDb;
use service::idempotency::{self, Answer, Claim, Scope, Terms};

migration::backend_tests!(
    the_first_claim_wins_and_the_others_learn_why_not,
    fifty_racing_claims_of_one_key_have_one_winner,
    an_expired_or_abandoned_key_can_be_taken_again,
    a_sweep_deletes_expired_keys_a_bounded_batch_at_a_time,
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
