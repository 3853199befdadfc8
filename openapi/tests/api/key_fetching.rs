//! How the issuer's keys are fetched: redirects are not followed, oversized key sets are not read, an
//! outage costs one fetch per back-off window however many requests arrive, and old keys are refreshed
//! in the background while requests keep using them.

use std::time::{Duration, Instant};

use futures::future::join_all;
use openapi::auth::KeyPolicy;
use serde_json::json;

use crate::tokens::{Issuer, SigningKey, app_with, eager, librarian, rules, with_token};

#[tokio::test]
async fn redirects_are_not_followed_and_oversized_key_sets_not_read() {
    let key = SigningKey::ec("k1");
    let issuer = Issuer::start(&[&key]).await;
    let token = key.sign(&librarian());

    let redirected = app_with(&issuer.url("/redirect"), rules(), eager()).await;
    let reply = with_token(&redirected, &token).await;
    assert_eq!(reply.problem(503)["type"], json!("/problems/unavailable"), "{reply:#?}");
    assert_eq!(issuer.fetches(), 0, "the redirect's target was never asked");

    let huge = app_with(&issuer.url("/huge"), rules(), eager()).await;
    assert_eq!(with_token(&huge, &token).await.problem(503)["type"], json!("/problems/unavailable"));

    let direct = app_with(&issuer.jwks_url(), rules(), eager()).await;
    assert_eq!(with_token(&direct, &token).await.status, 200, "the same keys, served plainly, work");
    issuer.server.abort();
}

#[tokio::test]
async fn an_issuer_outage_costs_one_fetch_per_back_off_window() {
    let key = SigningKey::rsa("k1");
    let issuer = Issuer::start(&[&key]).await;
    issuer.fail(true);
    let backoff = Duration::from_millis(600);
    let policy = KeyPolicy { first_backoff: backoff, max_backoff: backoff * 4, ..eager() };
    let setup = app_with(&issuer.jwks_url(), rules(), policy).await;
    let token = key.sign(&librarian());

    // 20 requests at once with a key id we have never seen, while the issuer answers 500.
    let replies = join_all((0..20).map(|_| with_token(&setup, &token))).await;
    assert!(replies.iter().all(|reply| reply.status == 503), "{replies:#?}");
    assert_eq!(issuer.fetches(), 1, "one fetch for all of them");
    for _ in 0..5 {
        assert_eq!(with_token(&setup, &token).await.problem(503)["type"], json!("/problems/unavailable"));
    }
    assert_eq!(issuer.fetches(), 1, "none within the back-off window");

    tokio::time::sleep(backoff + Duration::from_millis(100)).await;
    let replies = join_all((0..10).map(|_| with_token(&setup, &token))).await;
    assert!(replies.iter().all(|reply| reply.status == 503));
    assert_eq!(issuer.fetches(), 2, "one more after the window, and the window doubles");
    tokio::time::sleep(backoff + Duration::from_millis(100)).await;
    assert_eq!(with_token(&setup, &token).await.status, 503);
    assert_eq!(issuer.fetches(), 2, "still inside the doubled window");

    issuer.fail(false);
    tokio::time::sleep(backoff).await;
    assert_eq!(with_token(&setup, &token).await.status, 200, "the issuer is back");
    assert_eq!(issuer.fetches(), 3);
    issuer.server.abort();
}

#[tokio::test]
async fn old_keys_are_served_while_a_background_refresh_runs() {
    let key = SigningKey::ec("k1");
    let issuer = Issuer::start(&[&key]).await;
    let max_age = Duration::from_millis(300);
    let setup = app_with(&issuer.jwks_url(), rules(), KeyPolicy { max_age, ..eager() }).await;
    let token = key.sign(&librarian());
    assert_eq!(with_token(&setup, &token).await.status, 200);
    assert_eq!(issuer.fetches(), 1);

    // The keys grow old while the issuer turns slow: requests must not wait for it.
    issuer.delay(Duration::from_secs(2));
    tokio::time::sleep(max_age + Duration::from_millis(50)).await;
    let started = Instant::now();
    let replies = join_all((0..10).map(|_| with_token(&setup, &token))).await;
    assert!(replies.iter().all(|reply| reply.status == 200), "{replies:#?}");
    assert!(started.elapsed() < Duration::from_secs(1), "answered from the cache in {:?}", started.elapsed());
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(issuer.fetches(), 2, "one background refresh for all of them");

    // That refresh ends in a 500: the cached key keeps working, and the failure is not retried on every
    // request but after its back-off (10 s by default).
    issuer.fail(true);
    issuer.delay(Duration::ZERO);
    tokio::time::sleep(Duration::from_secs(2)).await;
    for _ in 0..10 {
        assert_eq!(with_token(&setup, &token).await.status, 200);
    }
    assert_eq!(issuer.fetches(), 2, "no fetch while backing off");

    // A token under an unknown key id meanwhile is a 503 (the issuer cannot be asked), not a 401.
    let stranger = SigningKey::ec("k2");
    let reply = with_token(&setup, &stranger.sign(&librarian())).await;
    assert_eq!(reply.problem(503)["type"], json!("/problems/unavailable"));
    issuer.server.abort();
}
