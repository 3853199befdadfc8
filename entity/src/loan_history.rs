//! `loan_history`: returned loans, kept for the borrower's history and the right to review.

use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "loan_history")]
pub struct Model {
    /// The id the loan had while it was active, so clients can follow a loan across its return.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: i64,
    pub book_id: i64,
    pub borrower_id: i64,
    pub borrowed_at: DateTimeUtc,
    pub due_at: DateTimeUtc,
    pub returned_at: DateTimeUtc,
    pub renewals: i32,
    /// Whether the book came back after its due time.
    pub returned_late: bool,
    #[sea_orm(belongs_to, from = "book_id", to = "id")]
    pub book: BelongsTo<super::book::Entity>,
    #[sea_orm(belongs_to, from = "borrower_id", to = "id")]
    pub borrower: BelongsTo<super::borrower::Entity>,
}

impl ActiveModelBehavior for ActiveModel {}
