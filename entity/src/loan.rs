//! `loans`: the active loans. A returned loan moves to `loan_history`.

use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "loans")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// Unique: the database itself guarantees a book is never on two active loans.
    #[sea_orm(unique)]
    pub book_id: i64,
    pub borrower_id: i64,
    pub borrowed_at: DateTimeUtc,
    pub due_at: DateTimeUtc,
    /// How many times the loan has been renewed.
    pub renewals: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    #[sea_orm(belongs_to, from = "book_id", to = "id")]
    pub book: BelongsTo<super::book::Entity>,
    #[sea_orm(belongs_to, from = "borrower_id", to = "id")]
    pub borrower: BelongsTo<super::borrower::Entity>,
}

timestamped!();
