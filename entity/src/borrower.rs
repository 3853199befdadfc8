//! `borrowers`: library members who loan and review books.

use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "borrowers")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub name: String,
    /// Stored lower-cased, so the unique key makes addresses unique case-insensitively on every backend.
    #[sea_orm(unique)]
    pub email: String,
    /// The `sub` claim of this borrower's own access tokens, when they log in themselves.
    #[sea_orm(unique)]
    pub auth_subject: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    /// Starts at 1 and goes up with every change: what an `ETag` names and an `If-Match` write checks.
    pub version: i32,
    #[sea_orm(has_many)]
    pub loans: HasMany<super::loan::Entity>,
    #[sea_orm(has_many)]
    pub past_loans: HasMany<super::loan_history::Entity>,
    #[sea_orm(has_many)]
    pub reviews: HasMany<super::review::Entity>,
}

timestamped!(versioned);
