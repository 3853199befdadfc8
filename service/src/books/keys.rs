//! Keeping `books.author_key` true to the credits and the authors' names, also when changes race.
//!
//! The full-text indexes read the key columns, not the joins, so every change to what a book's authors are
//! called rewrites the keys of the books concerned, in the caller's transaction: a new book, credits
//! replaced, added or removed, an author renamed or deleted. (`title_key` is written with the title itself.)
//!
//! Two such changes can race: an author renamed while a book gains that author, say. Each rewrites the keys
//! of the books it knows of from what it reads, so each must read what the other committed. The lock order
//! that guarantees it, on PostgreSQL and MariaDB alike (SQLite runs one writer at a time):
//!
//! - A key is rewritten only under the book's row lock, taken before the credits are read ([`refresh_author_keys`]
//!   locks the rows; a credit change already holds it), and the credits and names are read with a share
//!   lock: a locking read sees the latest committed rows (also under MariaDB's REPEATABLE READ) and waits
//!   for a rename that has not committed yet, then reads the new name.
//! - A rename writes the author's row first and reads the author's books after: a credit change that read
//!   the old name holds a share lock on it, so the rename waits for it to commit and then finds its book.
//!   A delete locks the author's row first for the same reason (a new credit holds a key-share lock on it
//!   through its foreign key).
//!
//! A rename meeting a credit change of another author of the same book can deadlock (each holds what the
//! other reads); the database picks a victim and `retry::transaction` runs it again.

use entity::{author, book, book_author, search_key};
use sea_orm::sea_query::{Expr, ExprTrait, LockType, Query};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, Order, QueryFilter, QueryOrder, QuerySelect};

use crate::Result;

/// Rewrites `author_key` of each book from its current credits, authors in id order.
pub(crate) async fn refresh_author_keys<C: ConnectionTrait>(db: &C, book_ids: &[i64]) -> Result<()> {
    if book_ids.is_empty() {
        return Ok(());
    }
    // In id order, so two refreshes of overlapping books queue rather than deadlock.
    let _locked: Vec<i64> = book::Entity::find()
        .select_only()
        .column(book::Column::Id)
        .filter(book::Column::Id.is_in(book_ids.to_vec()))
        .order_by_asc(book::Column::Id)
        .lock(LockType::Update)
        .into_tuple()
        .all(db)
        .await?;
    let credits = Query::select()
        .column((book_author::Entity, book_author::Column::BookId))
        .column((author::Entity, author::Column::Name))
        .from(book_author::Entity)
        .inner_join(
            author::Entity,
            Expr::col((author::Entity, author::Column::Id))
                .equals((book_author::Entity, book_author::Column::AuthorId)),
        )
        .and_where(Expr::col((book_author::Entity, book_author::Column::BookId)).is_in(book_ids.to_vec()))
        .order_by((author::Entity, author::Column::Id), Order::Asc)
        .lock(LockType::Share)
        .to_owned();
    let mut names: Vec<(i64, String)> = Vec::new();
    for row in db.query_all_raw(db.get_database_backend().build(&credits)).await? {
        names.push((row.try_get_by_index(0)?, row.try_get_by_index(1)?));
    }
    for &book_id in book_ids {
        let mine = names.iter().filter(|(id, _)| *id == book_id).map(|(_, name)| name.as_str());
        book::Entity::update_many()
            .col_expr(book::Column::AuthorKey, Expr::val(search_key::key_of_all(mine)))
            .filter(book::Column::Id.eq(book_id))
            .exec(db)
            .await?;
    }
    Ok(())
}
