//! The search keys stay true when the changes that rewrite them race: an author renamed (or deleted) while
//! books gain and lose that author. Each change rewrites the keys of the books it knows of; without a
//! lock order, a credit change could read the old name while the rename missed the new credit, and the
//! book kept a key (and a search document) naming an author as they no longer are.

use entity::{book, search_key};
use futures::future::join_all;
use migration::testkit::TestDb;
use sea_orm::{DatabaseConnection, EntityTrait};
use service::books::{self, BookFilter, SearchQuery};
use service::page::PageRequest;
use service::{ServiceError, authors};

use crate::support::*;

migration::backend_tests!(
    renames_racing_credit_changes_leave_every_key_current,
    a_delete_racing_new_credits_leaves_no_key_naming_the_author,
);

/// Rounds of racing: each one a chance for the interleaving that used to leave a key stale.
const ROUNDS: usize = 6;
/// Books whose credits change in every round, and renames racing them.
const SHELF: usize = 10;
const RENAMES: usize = 3;

async fn renames_racing_credit_changes_leave_every_key_current(db: TestDb) {
    let racer = author(&db.conn, "Racer r0").await;
    let steady = author(&db.conn, "Steady Hand").await;
    let mut shelf = Vec::new();
    for n in 0..SHELF {
        let credits: &[i64] = if n % 2 == 0 { &[racer, steady] } else { &[steady] };
        shelf.push((book_by(&db.conn, &format!("Shelf {n}"), credits).await.book.id, n % 2 == 0));
    }
    for round in 1..=ROUNDS {
        let renames = (0..RENAMES).map(|k| {
            let conn = db.conn.clone();
            // Letters and digits only, so the new name is one search word found in no title.
            let new_name = name(&format!("Racer r{round}k{k}"));
            tokio::spawn(async move { authors::rename(&conn, racer, new_name).await.map(|_| ()) })
        });
        let credits = shelf.iter().map(|&(book_id, credited)| {
            let conn = db.conn.clone();
            tokio::spawn(async move {
                let changed = if credited {
                    books::remove_author(&conn, book_id, racer).await
                } else {
                    books::add_author(&conn, book_id, racer).await
                };
                changed.map(|_| ())
            })
        });
        let (renamed, credited) = futures::join!(join_all(renames), join_all(credits));
        for outcome in renamed.into_iter().chain(credited) {
            outcome.unwrap().unwrap();
        }
        for (_, credited) in &mut shelf {
            *credited = !*credited;
        }
        assert_keys_current(&db.conn, &shelf, round).await;
        let current = authors::get(&db.conn, racer).await.unwrap().name;
        let with_racer: Vec<i64> =
            shelf.iter().filter(|(_, credited)| *credited).map(|(id, _)| *id).collect();
        assert_eq!(found(&db.conn, &current).await, with_racer, "round {round}: searching {current:?}");
    }
}

async fn a_delete_racing_new_credits_leaves_no_key_naming_the_author(db: TestDb) {
    for round in 1..=ROUNDS {
        let leaving = author(&db.conn, &format!("Leaving l{round}")).await;
        let mut shelf = Vec::new();
        for n in 0..SHELF {
            shelf.push(book(&db.conn, &format!("Round {round} shelf {n}")).await);
        }
        let delete = {
            let conn = db.conn.clone();
            tokio::spawn(async move { authors::delete(&conn, leaving).await })
        };
        let credits = shelf.iter().map(|&book_id| {
            let conn = db.conn.clone();
            tokio::spawn(async move { books::add_author(&conn, book_id, leaving).await.map(|_| ()) })
        });
        let (deleted, credited) = futures::join!(delete, join_all(credits));
        deleted.unwrap().unwrap();
        for outcome in credited {
            match outcome.unwrap() {
                // Too late: the author was gone when the credit was written.
                Ok(()) | Err(ServiceError::NotFound { entity: "author", .. }) => {}
                Err(other) => panic!("a credit racing the delete failed with {other:?}"),
            }
        }
        let shelf: Vec<(i64, bool)> = shelf.into_iter().map(|id| (id, false)).collect();
        assert_keys_current(&db.conn, &shelf, round).await;
        assert_eq!(found(&db.conn, &format!("l{round}")).await, Vec::<i64>::new(), "round {round}");
    }
}

/// Every book's `author_key` is the key of its current authors' current names, in author id order.
async fn assert_keys_current(db: &DatabaseConnection, shelf: &[(i64, bool)], round: usize) {
    for &(book_id, _) in shelf {
        let stored = book::Entity::find_by_id(book_id).one(db).await.unwrap().unwrap().author_key;
        let credits = books::get(db, book_id).await.unwrap().authors;
        let expected = search_key::key_of_all(credits.iter().map(|author| author.name.as_str()));
        assert_eq!(stored, expected, "round {round}: book {book_id}'s author key is stale");
    }
}

async fn found(db: &DatabaseConnection, raw: &str) -> Vec<i64> {
    let q = SearchQuery::parse(raw).unwrap();
    let filter = BookFilter { q, ..BookFilter::default() };
    let page = books::list(db, &filter, &PageRequest::new(None, Some(100)).unwrap()).await.unwrap();
    page.items.iter().map(|summary| summary.book.id).collect()
}
