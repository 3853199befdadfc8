//! `books`: the catalogue.

use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "books")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(indexed)]
    pub title: String,
    /// Normalised ISBN-13 (digits only); unique when present, several books may have none.
    #[sea_orm(unique)]
    pub isbn: Option<String>,
    pub published_date: Option<Date>,
    /// `title` as [`crate::search_key::key`] words: what the full-text index searches. Kept by the service
    /// in the statement that writes `title`.
    #[sea_orm(column_type = "Text", default_value = "")]
    pub title_key: String,
    /// The authors' names as search-key words, in author id order; kept by the service whenever credits
    /// or an author's name change.
    #[sea_orm(column_type = "Text", default_value = "")]
    pub author_key: String,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    /// Starts at 1 and goes up with every change: what an `ETag` names and an `If-Match` write checks.
    pub version: i32,
    #[sea_orm(has_many, via = "book_author")]
    pub authors: HasMany<super::author::Entity>,
    /// At most one active loan: `loans.book_id` is unique.
    #[sea_orm(has_one)]
    pub loan: HasOne<super::loan::Entity>,
    #[sea_orm(has_many)]
    pub reviews: HasMany<super::review::Entity>,
    #[sea_orm(has_many)]
    pub past_loans: HasMany<super::loan_history::Entity>,
}

timestamped!(versioned);
