//! The Libris data model as SeaORM 2 entities (dense format), and nothing else.
//!
//! Each module mirrors one table created by the `migration` crate. Rules, queries and validation live in
//! `service`; this crate must not grow behaviour, so that the schema can be read in one sitting. The one
//! exception is bookkeeping every row of a table shares: `timestamped!` stamps `created_at` and
//! `updated_at`, so no caller sets them by hand. The other is [`search_key`], the form searchable text is stored in, which
//! the service, the migrations and the dataset loader must all write the same way.

/// `ActiveModelBehavior` for a table with `created_at` and `updated_at`: both are stamped on insert (unless
/// the caller set them), `updated_at` again on every update. `timestamped!(versioned)` also moves a
/// `version` column on by one with every `ActiveModel` update, so no write path can leave an `ETag`
/// naming a state that is gone (the service's conditional writes bump it in their own `UPDATE`).
///
/// `before_save` runs for `ActiveModel::insert`, `update` and `save`, not for `Entity::insert_many` or
/// `update_many`: bulk loaders (the benchmarks' dataset) set both columns themselves.
macro_rules! timestamped {
    (versioned) => {
        #[async_trait::async_trait]
        impl ActiveModelBehavior for ActiveModel {
            async fn before_save<C>(mut self, _db: &C, insert: bool) -> Result<Self, DbErr>
            where
                C: ConnectionTrait,
            {
                if !insert && let sea_orm::ActiveValue::Unchanged(version) = self.version {
                    self.version = sea_orm::ActiveValue::Set(version + 1);
                }
                Ok(stamp(self, insert))
            }
        }

        fn stamp(mut model: ActiveModel, insert: bool) -> ActiveModel {
            let now = ChronoUtc::now();
            if insert && model.created_at.is_not_set() {
                model.created_at = sea_orm::ActiveValue::Set(now);
            }
            if !insert || model.updated_at.is_not_set() {
                model.updated_at = sea_orm::ActiveValue::Set(now);
            }
            model
        }
    };
    () => {
        #[async_trait::async_trait]
        impl ActiveModelBehavior for ActiveModel {
            async fn before_save<C>(mut self, _db: &C, insert: bool) -> Result<Self, DbErr>
            where
                C: ConnectionTrait,
            {
                let now = ChronoUtc::now();
                if insert && self.created_at.is_not_set() {
                    self.created_at = sea_orm::ActiveValue::Set(now);
                }
                if !insert || self.updated_at.is_not_set() {
                    self.updated_at = sea_orm::ActiveValue::Set(now);
                }
                Ok(self)
            }
        }
    };
}

pub mod author;
pub mod book;
pub mod book_author;
pub mod borrower;
pub mod idempotency_key;
pub mod idempotency_slot;
pub mod loan;
pub mod loan_history;
pub mod review;
pub mod search_key;

/// Everything a caller usually needs in one import.
pub mod prelude {
    pub use crate::author::Entity as Author;
    pub use crate::book::Entity as Book;
    pub use crate::book_author::Entity as BookAuthor;
    pub use crate::borrower::Entity as Borrower;
    pub use crate::idempotency_key::Entity as IdempotencyKey;
    pub use crate::idempotency_slot::Entity as IdempotencySlot;
    pub use crate::loan::Entity as Loan;
    pub use crate::loan_history::Entity as LoanHistory;
    pub use crate::review::Entity as Review;
}
