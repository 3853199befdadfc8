//! A deterministic library of any size, for benchmarks: bulk inserts in batches, straight into the tables.
//!
//! The one writer that goes past the service's rules, for speed: loading a million books one check-out at
//! a time would take hours, so rows go in with `insert_many`, a thousand per statement. They are still
//! rows the rules would allow (one active loan per book, at most the default policy's number of loans per
//! borrower, reviews only by past borrowers), and every value is made through the domain's own types
//! (titles, names, e-mail addresses, ISBNs with their check digit, ratings, comments), so none is one the
//! API would refuse. It needs empty tables, so that ids come out as 1..=N in insertion order.
//!
//! `insert_many` does not run the entities' `before_save`, which stamps `created_at` and `updated_at`
//! on every other write: the rows here carry their timestamps themselves.

use chrono::{NaiveDate, TimeDelta, Utc};
use entity::{author, book, book_author, borrower, loan, loan_history, review, search_key};
use sea_orm::{
    ActiveValue::Set, ConnectionTrait, DbBackend, DbErr, EntityTrait, PaginatorTrait, TransactionSession,
    TransactionTrait,
};
use service::LoanPolicy;
use service::ServiceError;
use service::domain::{Comment, Email, Isbn, PersonName, Rating, Title};

/// How many of each record to create.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DatasetSize {
    pub books: u64,
    pub authors: u64,
    pub borrowers: u64,
    pub active_loans: u64,
    pub reviews: u64,
}

impl Default for DatasetSize {
    fn default() -> Self {
        Self { books: 100_000, authors: 20_000, borrowers: 10_000, active_loans: 50_000, reviews: 200_000 }
    }
}

/// Why a dataset cannot be made.
#[derive(Debug, thiserror::Error)]
pub enum DatasetError {
    #[error("the dataset generator needs empty tables")]
    NotEmpty,
    #[error("impossible sizes: {0}")]
    Size(&'static str),
    /// A generated value the domain refuses: a bug in the generator, never in the data asked for.
    #[error(transparent)]
    Invalid(#[from] ServiceError),
    #[error(transparent)]
    Db(#[from] DbErr),
}

const BATCH: usize = 1_000;

/// A small linear congruential generator: the same seed gives the same library on every backend.
struct Dice(u64);

impl Dice {
    fn next(&mut self, below: u64) -> u64 {
        self.0 = self.0.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % below.max(1)
    }

    fn word(&mut self) -> &'static str {
        WORDS[usize::try_from(self.next(WORDS.len() as u64)).unwrap_or_default()]
    }

    fn days(&mut self, below: u64) -> TimeDelta {
        TimeDelta::days(i64::try_from(self.next(below)).unwrap_or_default())
    }
}

const WORDS: [&str; 16] = [
    "Silent", "Crimson", "Hidden", "Northern", "Glass", "Iron", "Winter", "Paper", "Garden", "River",
    "Empire", "Machine", "Lantern", "Harbour", "Orchard", "Signal",
];

/// Inserts rows in transactions of twenty `BATCH`-row statements. Rows are made as they are inserted, so a
/// million of them never sit in memory at once; the first one the domain refuses stops the load.
async fn insert_all<C, A, I>(db: &C, rows: I) -> Result<(), DatasetError>
where
    C: ConnectionTrait + TransactionTrait,
    A: sea_orm::ActiveModelTrait + Send,
    I: IntoIterator<Item = Result<A, ServiceError>>,
{
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let txn = db.begin().await?;
        for _ in 0..20 {
            let batch = rows.by_ref().take(BATCH).collect::<Result<Vec<A>, _>>()?;
            if batch.is_empty() {
                break;
            }
            <A::Entity as EntityTrait>::insert_many(batch).exec_without_returning(&txn).await?;
        }
        txn.commit().await?;
    }
    Ok(())
}

/// The ISBN-13 of the `n`th book: a 978 prefix, nine digits of `n`, and its check digit.
fn isbn(n: u64) -> Result<String, ServiceError> {
    Isbn::with_check_digit(&format!("978{:09}", n % 1_000_000_000)).map(Isbn::into_inner)
}

fn check_size(size: DatasetSize) -> Result<(), DatasetError> {
    let per_borrower = LoanPolicy::default().max_active_loans();
    if size.borrowers == 0 || size.authors == 0 {
        return Err(DatasetError::Size("at least one author and one borrower are needed"));
    }
    if size.active_loans > size.books || size.active_loans > size.borrowers.saturating_mul(per_borrower) {
        return Err(DatasetError::Size("active loans need a free book and a borrower under the loan limit"));
    }
    if size.reviews > size.books.saturating_mul(size.borrowers) {
        return Err(DatasetError::Size("more reviews than (book, borrower) pairs"));
    }
    Ok(())
}

/// Fills empty tables with a library of `size`, the same one for the same `seed` on every backend.
///
/// # Errors
/// `NotEmpty` unless the tables are empty; `Size` when the sizes cannot fit the rules; database failures.
pub async fn generate<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    size: DatasetSize,
    seed: u64,
) -> Result<(), DatasetError> {
    if book::Entity::find().count(db).await? > 0 || borrower::Entity::find().count(db).await? > 0 {
        return Err(DatasetError::NotEmpty);
    }
    check_size(size)?;
    let now = Utc::now();
    let mut dice = Dice(seed);
    let authors = (1..=size.authors).map(|i| {
        Ok(author::ActiveModel {
            name: Set(PersonName::parse(&format!("Author {i}"))?.into_inner()),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        })
    });
    insert_all(db, authors).await?;
    let epoch = NaiveDate::from_ymd_opt(1900, 1, 1).unwrap_or_default();
    // Each book's credits are drawn with it, so its search keys (title and authors' names, in author id
    // order) go into the same bulk insert: the loader bypasses the service that keeps them otherwise.
    let mut credits = Vec::new();
    let books = (1..=size.books).map(|i| {
        let title = Title::parse(&format!("The {} {} {i}", dice.word(), dice.word()))?.into_inner();
        let first = 1 + dice.next(size.authors);
        let mut authors: Vec<u64> =
            (0..=dice.next(3).min(size.authors - 1)).map(|k| 1 + (first - 1 + k) % size.authors).collect();
        authors.sort_unstable();
        let names: Vec<String> = authors.iter().map(|a| format!("Author {a}")).collect();
        credits.extend(authors.into_iter().map(|author| (i, author)));
        Ok(book::ActiveModel {
            title_key: Set(search_key::key(&title)),
            author_key: Set(search_key::key_of_all(names.iter().map(String::as_str))),
            title: Set(title),
            isbn: Set(Some(isbn(i)?)),
            published_date: Set(Some(epoch + dice.days(45_000))),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        })
    });
    insert_all(db, books).await?;
    insert_all(
        db,
        credits.into_iter().map(|(book_id, author_id)| {
            Ok(book_author::ActiveModel { book_id: Set(to_id(book_id)), author_id: Set(to_id(author_id)) })
        }),
    )
    .await?;
    let borrowers = (1..=size.borrowers).map(|i| {
        Ok(borrower::ActiveModel {
            name: Set(PersonName::parse(&format!("Borrower {i}"))?.into_inner()),
            email: Set(Email::parse(&format!("borrower{i}@example.org"))?.into_inner()),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        })
    });
    insert_all(db, borrowers).await?;
    // Active loans spread evenly over the books; about one in ten is overdue.
    let loans = (0..size.active_loans).map(|k| {
        let due = now + dice.days(28) - TimeDelta::days(3);
        Ok(loan::ActiveModel {
            book_id: Set(to_id(1 + k * size.books / size.active_loans.max(1))),
            borrower_id: Set(to_id(1 + k % size.borrowers)),
            borrowed_at: Set(due - TimeDelta::days(14)),
            due_at: Set(due),
            renewals: Set(0),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        })
    });
    insert_all(db, loans).await?;
    // Every review is by a borrower who returned the book: one history row per review, with ids above the
    // active loans' (a returned loan keeps its id).
    let pairs: Vec<(i64, i64)> = (0..size.reviews)
        .map(|r| {
            let (book_index, round) = (r % size.books, r / size.books);
            (to_id(1 + book_index), to_id(1 + (round + book_index * 13) % size.borrowers))
        })
        .collect();
    let history = pairs.iter().zip(1_u64..).map(|(&(book_id, borrower_id), n)| {
        let returned = now - TimeDelta::days(1 + i64::try_from(n % 300).unwrap_or_default());
        Ok(loan_history::ActiveModel {
            id: Set(to_id(size.active_loans + n)),
            book_id: Set(book_id),
            borrower_id: Set(borrower_id),
            borrowed_at: Set(returned - TimeDelta::days(10)),
            due_at: Set(returned + TimeDelta::days(4)),
            returned_at: Set(returned),
            renewals: Set(0),
            returned_late: Set(false),
        })
    });
    insert_all(db, history).await?;
    let reviews = pairs.iter().map(|&(book_id, borrower_id)| {
        let rating = Rating::parse(i64::try_from(1 + dice.next(5)).unwrap_or(3))?;
        let comment = Comment::parse((dice.next(3) == 0).then_some("Read it in one sitting."))?;
        Ok(review::ActiveModel {
            book_id: Set(book_id),
            borrower_id: Set(borrower_id),
            rating: Set(rating.get()),
            comment: Set(comment.into_inner()),
            reviewed_at: Set(now),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        })
    });
    insert_all(db, reviews).await?;
    skip_loan_ids(db, size.active_loans + size.reviews + 1).await?;
    Ok(())
}

/// Moves the `loans` id sequence to `next`, so a new check-out never takes an id the history holds.
///
/// Raw SQL, one statement per backend, and only here: the service never needs it, because a returned loan
/// keeps the id its active loan had, so ids in `loan_history` always come from the sequence. The dataset
/// writes history rows with ids of its own choosing, which the sequence has not seen.
async fn skip_loan_ids<C: ConnectionTrait>(db: &C, next: u64) -> Result<(), DbErr> {
    let sql = match db.get_database_backend() {
        DbBackend::Postgres => format!("SELECT setval(pg_get_serial_sequence('loans', 'id'), {next}, false)"),
        DbBackend::MySql => format!("ALTER TABLE loans AUTO_INCREMENT = {next}"),
        _ => format!("UPDATE sqlite_sequence SET seq = {} WHERE name = 'loans'", next - 1),
    };
    db.execute_unprepared(&sql).await?;
    Ok(())
}

fn to_id(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_isbns_parse_as_themselves() {
        for n in [0, 1, 42, 99_999, 123_456_789, 1_000_000_001] {
            let made = isbn(n).ok();
            assert_eq!(made.as_deref().map(Isbn::parse).and_then(Result::ok).map(Isbn::into_inner), made);
        }
    }

    #[test]
    fn sizes_that_break_the_rules_are_refused() {
        let ok = DatasetSize { books: 10, authors: 2, borrowers: 2, active_loans: 10, reviews: 20 };
        assert!(check_size(ok).is_ok());
        for bad in [
            DatasetSize { borrowers: 0, ..ok },
            DatasetSize { authors: 0, ..ok },
            DatasetSize { active_loans: 11, ..ok },
            DatasetSize { active_loans: 10, borrowers: 1, ..ok },
            DatasetSize { reviews: 21, ..ok },
        ] {
            assert!(matches!(check_size(bad), Err(DatasetError::Size(_))), "{bad:?}");
        }
    }
}
