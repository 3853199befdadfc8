//! A deterministic library of any size, for benchmarks: bulk inserts in batches, straight into the tables.
//!
//! Not a request path: it writes rows the rules would allow (one active loan per book, at most five per
//! borrower, reviews only by past borrowers) without going through the rules one by one, and it needs
//! empty tables so that ids come out as 1..=N in insertion order.

use chrono::{NaiveDate, TimeDelta, Utc};
use entity::{author, book, book_author, borrower, loan, loan_history, review};
use sea_orm::{
    ActiveValue::Set, ConnectionTrait, DbBackend, EntityTrait, PaginatorTrait, TransactionSession,
    TransactionTrait,
};

use crate::{Result, ServiceError};

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

const BATCH: usize = 1_000;

/// A small linear congruential generator: the same seed gives the same library on every backend.
struct Dice(u64);

impl Dice {
    fn next(&mut self, below: u64) -> u64 {
        self.0 = self.0.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % below.max(1)
    }
}

const WORDS: [&str; 16] = [
    "Silent", "Crimson", "Hidden", "Northern", "Glass", "Iron", "Winter", "Paper", "Garden", "River",
    "Empire", "Machine", "Lantern", "Harbour", "Orchard", "Signal",
];

/// Inserts rows in transactions of `BATCH`-row statements.
async fn insert_all<C, A, I>(db: &C, rows: I) -> Result<()>
where
    C: ConnectionTrait + TransactionTrait,
    A: sea_orm::ActiveModelTrait + Send,
    I: IntoIterator<Item = A>,
{
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let txn = db.begin().await?;
        for _ in 0..20 {
            let batch: Vec<A> = rows.by_ref().take(BATCH).collect();
            if batch.is_empty() {
                break;
            }
            <A::Entity as EntityTrait>::insert_many(batch).exec_without_returning(&txn).await?;
        }
        txn.commit().await?;
    }
    Ok(())
}

/// A valid ISBN-13 made from a number.
fn isbn(n: u64) -> String {
    let body = format!("978{:09}", n % 1_000_000_000);
    let sum: u32 = body
        .chars()
        .filter_map(|c| c.to_digit(10))
        .enumerate()
        .map(|(i, d)| if i % 2 == 0 { d } else { d * 3 })
        .sum();
    format!("{body}{}", (10 - sum % 10) % 10)
}

/// Fills empty tables with a library of `size`.
///
/// # Errors
/// `Validation` when the tables are not empty or the sizes cannot fit the rules; database failures.
pub async fn generate<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    size: DatasetSize,
    seed: u64,
) -> Result<()> {
    if book::Entity::find().count(db).await? > 0 || borrower::Entity::find().count(db).await? > 0 {
        return Err(ServiceError::invalid("database", "the dataset generator needs empty tables"));
    }
    if size.active_loans > size.books
        || size.active_loans > size.borrowers * 5
        || size.borrowers == 0
        || size.authors == 0
    {
        return Err(ServiceError::invalid(
            "size",
            "active loans need a free book and a borrower under the limit of 5",
        ));
    }
    if size.reviews > size.books.saturating_mul(size.borrowers) {
        return Err(ServiceError::invalid("size", "more reviews than (book, borrower) pairs"));
    }
    let now = Utc::now();
    let mut dice = Dice(seed);
    insert_all(
        db,
        (1..=size.authors).map(|i| author::ActiveModel {
            name: Set(format!("Author {i}")),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }),
    )
    .await?;
    let epoch = NaiveDate::from_ymd_opt(1900, 1, 1).unwrap_or_default();
    let titles: Vec<(String, NaiveDate)> = (1..=size.books)
        .map(|i| {
            let title =
                format!("The {} {} {i}", WORDS[dice.next(16) as usize], WORDS[dice.next(16) as usize]);
            (title, epoch + TimeDelta::days(dice.next(45_000) as i64))
        })
        .collect();
    insert_all(
        db,
        titles.into_iter().zip(1_u64..).map(|((title, date), i)| book::ActiveModel {
            title: Set(title),
            isbn: Set(Some(isbn(i))),
            published_date: Set(Some(date)),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }),
    )
    .await?;
    let mut credits = Vec::new();
    for book_id in 1..=size.books {
        let first = 1 + dice.next(size.authors);
        for k in 0..=dice.next(3).min(size.authors - 1) {
            credits.push((book_id, 1 + (first - 1 + k) % size.authors));
        }
    }
    insert_all(
        db,
        credits.into_iter().map(|(book_id, author_id)| book_author::ActiveModel {
            book_id: Set(to_id(book_id)),
            author_id: Set(to_id(author_id)),
        }),
    )
    .await?;
    insert_all(
        db,
        (1..=size.borrowers).map(|i| borrower::ActiveModel {
            name: Set(format!("Borrower {i}")),
            email: Set(format!("borrower{i}@example.org")),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }),
    )
    .await?;
    // Active loans spread evenly over the books; about one in ten is overdue.
    let loans: Vec<loan::ActiveModel> = (0..size.active_loans)
        .map(|k| {
            let due = now + TimeDelta::days(dice.next(28) as i64 - 3);
            loan::ActiveModel {
                book_id: Set(to_id(1 + k * size.books / size.active_loans.max(1))),
                borrower_id: Set(to_id(1 + k % size.borrowers)),
                borrowed_at: Set(due - TimeDelta::days(14)),
                due_at: Set(due),
                renewals: Set(0),
                created_at: Set(now),
                updated_at: Set(now),
                ..Default::default()
            }
        })
        .collect();
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
        let returned = now - TimeDelta::days(1 + (n % 300) as i64);
        loan_history::ActiveModel {
            id: Set(to_id(size.active_loans + n)),
            book_id: Set(book_id),
            borrower_id: Set(borrower_id),
            borrowed_at: Set(returned - TimeDelta::days(10)),
            due_at: Set(returned - TimeDelta::days(-4)),
            returned_at: Set(returned),
            renewals: Set(0),
            returned_late: Set(false),
        }
    });
    insert_all(db, history).await?;
    let reviews: Vec<review::ActiveModel> = pairs
        .iter()
        .map(|&(book_id, borrower_id)| review::ActiveModel {
            book_id: Set(book_id),
            borrower_id: Set(borrower_id),
            rating: Set(i16::try_from(1 + dice.next(5)).unwrap_or(3)),
            comment: Set((dice.next(3) == 0).then(|| "Read it in one sitting.".to_owned())),
            reviewed_at: Set(now),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        })
        .collect();
    insert_all(db, reviews).await?;
    // New loans must not reuse the ids the history took.
    let next = size.active_loans + size.reviews + 1;
    let bump = match db.get_database_backend() {
        DbBackend::Postgres => format!("SELECT setval(pg_get_serial_sequence('loans', 'id'), {next}, false)"),
        DbBackend::MySql => format!("ALTER TABLE loans AUTO_INCREMENT = {next}"),
        _ => format!("UPDATE sqlite_sequence SET seq = {} WHERE name = 'loans'", next - 1),
    };
    db.execute_unprepared(&bump).await?;
    Ok(())
}

fn to_id(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::isbn;
    use crate::domain::Isbn;

    #[test]
    fn generated_isbns_are_valid() {
        for n in [0, 1, 42, 99_999, 123_456_789] {
            assert_eq!(Isbn::parse(&isbn(n)).map(Isbn::into_inner).ok(), Some(isbn(n)));
        }
    }
}
