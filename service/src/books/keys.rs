//! Keeping `books.author_key` true to the credits and the authors' names.
//!
//! The full-text indexes read the key columns, not the joins, so every change to what a book's authors are
//! called rewrites the keys of the books concerned, in the caller's transaction: a new book, credits
//! replaced, added or removed, an author renamed or deleted. (`title_key` is written with the title itself.)

use entity::{book, search_key};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

use crate::Result;

/// Rewrites `author_key` of each book from its current credits, authors in id order.
pub(crate) async fn refresh_author_keys<C: ConnectionTrait>(db: &C, book_ids: &[i64]) -> Result<()> {
    let credits = super::authors_of(db, book_ids).await?;
    for &book_id in book_ids {
        let names = credits.iter().filter(|(id, _)| *id == book_id).map(|(_, author)| author.name.as_str());
        book::Entity::update_many()
            .col_expr(book::Column::AuthorKey, Expr::val(search_key::key_of_all(names)))
            .filter(book::Column::Id.eq(book_id))
            .exec(db)
            .await?;
    }
    Ok(())
}
