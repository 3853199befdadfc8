//! `authors`: people who wrote books.

use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "authors")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub name: String,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    /// Starts at 1 and goes up with every change: what an `ETag` names and an `If-Match` write checks.
    pub version: i32,
    #[sea_orm(has_many, via = "book_author")]
    pub books: HasMany<super::book::Entity>,
}

timestamped!(versioned);
