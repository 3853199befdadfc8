//! Demo data for the local server: a small catalogue people can explore in Swagger UI.
//!
//! Loaded through the service's own functions, so it obeys every rule, and only into an empty catalogue.

use chrono::NaiveDate;
use sea_orm::{ConnectionTrait, TransactionTrait};
use service::books::NewBook;
use service::borrowers::NewBorrower;
use service::domain::{AuthSubject, CalendarDate, Comment, Email, Isbn, PersonName, Rating, Title};
use service::loans::CheckOut;
use service::reviews::NewReview;
use service::{LoanPolicy, Result, authors, books, borrowers, loans, reviews};

/// Title, ISBN, publication date (year, month, day) and indexes into [`AUTHORS`].
type DemoBook = (&'static str, &'static str, (i32, u32, u32), &'static [usize]);

const BOOKS: [DemoBook; 8] = [
    ("Dune", "9780441172719", (1965, 8, 1), &[0]),
    ("The Left Hand of Darkness", "9780441478125", (1969, 3, 1), &[1]),
    ("A Wizard of Earthsea", "9780547773742", (1968, 11, 1), &[1]),
    ("Neuromancer", "9780441569595", (1984, 7, 1), &[2]),
    ("Good Omens", "9780060853983", (1990, 5, 1), &[3, 4]),
    ("The Colour of Magic", "9780062225672", (1983, 11, 24), &[3]),
    ("American Gods", "9780380789030", (2001, 6, 19), &[4]),
    ("Kindred", "9780807083697", (1979, 6, 1), &[5]),
];

const AUTHORS: [&str; 6] = [
    "Frank Herbert",
    "Ursula K. Le Guin",
    "William Gibson",
    "Terry Pratchett",
    "Neil Gaiman",
    "Octavia E. Butler",
];

/// Name, e-mail, and the login subject a dev token can carry to act as this borrower.
const BORROWERS: [(&str, &str, &str); 3] = [
    ("Ada Lovelace", "ada@example.org", "demo-ada"),
    ("Alan Turing", "alan@example.org", "demo-alan"),
    ("Grace Hopper", "grace@example.org", "demo-grace"),
];

/// Whether the demo borrowers get login subjects.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DemoLogins {
    /// Linked to `demo-ada`, `demo-alan` and `demo-grace`, the subjects dev tokens carry, so Swagger UI
    /// can act as them. Only for dev mode: under a real issuer a guessable subject is one a user could
    /// pick for themselves (another provider, a pool that lets users choose) and so read a stranger's
    /// loans.
    DevSubjects,
    /// No subject: the borrowers are records only, which a librarian may link to real logins.
    Unlinked,
}

/// Fills an empty library with demo data. Returns whether anything was loaded.
///
/// Every value is parsed into its domain type first, as the API does with a request, so a typo in the
/// tables above fails the load instead of storing a value the API would refuse.
///
/// # Errors
/// Database failures; the demo data itself always satisfies the rules.
pub async fn load<C: ConnectionTrait + TransactionTrait>(db: &C, logins: DemoLogins) -> Result<bool> {
    if authors::count(db).await? > 0 {
        return Ok(false);
    }
    let mut author_ids = Vec::new();
    for name in AUTHORS {
        author_ids.push(authors::create(db, PersonName::parse(name)?).await?.id);
    }
    let mut book_ids = Vec::new();
    for (title, isbn, (y, m, d), by) in BOOKS {
        let book = books::create(
            db,
            NewBook {
                title: Title::parse(title)?,
                isbn: Some(Isbn::parse(isbn)?),
                published_date: NaiveDate::from_ymd_opt(y, m, d)
                    .map(|date| CalendarDate::parse("published_date", date))
                    .transpose()?,
                author_ids: by.iter().map(|i| author_ids[*i]).collect(),
            },
        )
        .await?;
        book_ids.push(book.book.id);
    }
    let mut borrower_ids = Vec::new();
    for (name, email, subject) in BORROWERS {
        let new = NewBorrower {
            name: PersonName::parse(name)?,
            email: Email::parse(email)?,
            subject: match logins {
                DemoLogins::DevSubjects => Some(AuthSubject::parse(subject)?),
                DemoLogins::Unlinked => None,
            },
        };
        borrower_ids.push(borrowers::register(db, new).await?.id);
    }
    let policy = LoanPolicy::default();
    // Ada read Dune and reviewed it; Alan has Neuromancer out now.
    let dune = loans::check_out(
        db,
        &policy,
        CheckOut { book_id: book_ids[0], borrower_id: borrower_ids[0], period_days: None },
    )
    .await?;
    loans::return_loan(db, dune.id).await?;
    reviews::create(
        db,
        NewReview {
            book_id: book_ids[0],
            borrower_id: borrower_ids[0],
            rating: Rating::parse(5)?,
            comment: Comment::parse(Some("Spice, sand and politics."))?,
        },
    )
    .await?;
    loans::check_out(
        db,
        &policy,
        CheckOut { book_id: book_ids[3], borrower_id: borrower_ids[1], period_days: None },
    )
    .await?;
    Ok(true)
}
