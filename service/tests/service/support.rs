//! Fixtures and assertions shared by the service tests.

use std::sync::{Arc, Mutex};

use chrono::{TimeDelta, Utc};
use entity::loan;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, DatabaseConnection, EntityTrait};
use service::books::{BookDetail, NewBook};
use service::domain::{AuthSubject, CalendarDate, Email, Isbn, PersonName, Rating, SearchTerm, Title};
use service::{ConflictCode, ServiceError, authors, books, borrowers};

// The service takes domain values, parsed at the API edge; fixtures parse theirs here. Each is valid:
// refusing invalid ones is the domain's business (its unit tests) and the API's (tests/api).

pub fn title(raw: &str) -> Title {
    Title::parse(raw).unwrap()
}

pub fn name(raw: &str) -> PersonName {
    PersonName::parse(raw).unwrap()
}

pub fn email(raw: &str) -> Email {
    Email::parse(raw).unwrap()
}

pub fn subject(raw: &str) -> AuthSubject {
    AuthSubject::parse(raw).unwrap()
}

pub fn isbn(raw: &str) -> Isbn {
    Isbn::parse(raw).unwrap()
}

pub fn rating(stars: i64) -> Rating {
    Rating::parse(stars).unwrap()
}

pub fn date(year: i32, month: u32, day: u32) -> CalendarDate {
    CalendarDate::parse("date", chrono::NaiveDate::from_ymd_opt(year, month, day).unwrap()).unwrap()
}

pub fn term(raw: &str) -> SearchTerm {
    SearchTerm::parse("term", raw, 500).unwrap().unwrap()
}

pub async fn author(db: &DatabaseConnection, author_name: &str) -> i64 {
    authors::create(db, name(author_name)).await.unwrap().id
}

pub async fn book(db: &DatabaseConnection, book_title: &str) -> i64 {
    book_by(db, book_title, &[]).await.book.id
}

pub async fn book_by(db: &DatabaseConnection, book_title: &str, author_ids: &[i64]) -> BookDetail {
    let input = NewBook { author_ids: author_ids.to_vec(), ..NewBook::titled(title(book_title)) };
    books::create(db, input).await.unwrap()
}

pub async fn borrower(db: &DatabaseConnection, n: usize) -> i64 {
    borrowers::create(db, name(&format!("Borrower {n}")), email(&format!("b{n}@example.org")))
        .await
        .unwrap()
        .id
}

/// Moves a loan's due time into the past, as if the borrower had kept the book too long.
pub async fn make_overdue(db: &DatabaseConnection, loan_id: i64) {
    let mut model: loan::ActiveModel =
        loan::Entity::find_by_id(loan_id).one(db).await.unwrap().unwrap().into();
    model.due_at = Set(Utc::now() - TimeDelta::days(1));
    model.update(db).await.unwrap();
}

#[track_caller]
pub fn assert_conflict<T: std::fmt::Debug>(result: Result<T, ServiceError>, expected: ConflictCode) {
    match result {
        Err(ServiceError::Conflict { code, .. }) => assert_eq!(code, expected),
        other => panic!("expected conflict {}, got {other:?}", expected.as_str()),
    }
}

#[track_caller]
pub fn assert_not_found<T: std::fmt::Debug>(result: Result<T, ServiceError>, expected: &str) {
    match result {
        Err(ServiceError::NotFound { entity, .. }) => assert_eq!(entity, expected),
        other => panic!("expected {expected} not found, got {other:?}"),
    }
}

#[track_caller]
pub fn assert_invalid<T: std::fmt::Debug>(result: Result<T, ServiceError>, expected: &str) {
    match result {
        Err(ServiceError::Validation { field, .. }) => assert_eq!(field, expected),
        other => panic!("expected invalid {expected}, got {other:?}"),
    }
}

/// Records every statement a connection runs, to count queries and inspect their SQL.
#[derive(Clone, Default)]
pub struct StatementLog(Arc<Mutex<Vec<String>>>);

impl StatementLog {
    pub fn attach(db: &mut DatabaseConnection) -> Self {
        let log = Self::default();
        let sink = log.0.clone();
        db.set_metric_callback(move |info| sink.lock().unwrap().push(info.statement.sql.clone()));
        log
    }

    /// The statements run since the last call.
    pub fn take(&self) -> Vec<String> {
        std::mem::take(&mut *self.0.lock().unwrap())
    }
}
