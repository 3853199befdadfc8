//! `reviews`: a borrower's rating (1 to 5) and optional comment on a book they borrowed.

use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "reviews")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// `(book_id, borrower_id)` is unique: one review per borrower per book.
    #[sea_orm(unique_key = "book_borrower")]
    pub book_id: i64,
    #[sea_orm(unique_key = "book_borrower")]
    pub borrower_id: i64,
    /// 1..=5, also a CHECK constraint in the schema.
    pub rating: i16,
    #[sea_orm(column_type = "Text", nullable)]
    pub comment: Option<String>,
    pub reviewed_at: DateTimeUtc,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    /// Starts at 1 and goes up with every change: what an `ETag` names and an `If-Match` write checks.
    pub version: i32,
    #[sea_orm(belongs_to, from = "book_id", to = "id")]
    pub book: BelongsTo<super::book::Entity>,
    #[sea_orm(belongs_to, from = "borrower_id", to = "id")]
    pub borrower: BelongsTo<super::borrower::Entity>,
}

timestamped!(versioned);
