//! `/books`: the catalogue.

use chrono::NaiveDate;
use poem::Request;
use poem::web::Data;
use poem_openapi::OpenApi;
use poem_openapi::param::{Header, Path, Query};
use poem_openapi::payload::Json;
use service::ServiceError;
use service::books::{self as svc, BookFilter, SearchQuery};
use service::domain::CalendarDate;
use service::reviews::{self as reviews_svc};

use super::access::{MaybeToken, Token};
use super::conditional::{Fetched, Saved, expected};
use super::{ApiResult, BasePath, BookCreated, Db, Deleted, DirectJson, ReviewCreated, State, Tag, page};
use crate::auth::caching::varies_by_token;
use crate::dto::{
    Author, Book, BookAuthors, BookPage, BookPatch, NewBook, NewBookAuthor, NewReview, Review, ReviewPage,
};

/// Whether the query string still names the retired `title` filter. It is no longer in the spec (no value
/// of it is valid, so no client should be generated to send one), but a client written against the old
/// spec gets a 422 saying what replaced it rather than a silently unfiltered list.
fn names_retired_title(req: &Request) -> bool {
    let query = req.uri().query().unwrap_or_default();
    url::form_urlencoded::parse(query.as_bytes()).any(|(name, _)| name == "title")
}

/// The books lists' filters, parsed: the retired `title`, the dates, then `q`.
fn book_filter(
    retired_title: bool,
    q: Option<String>,
    author_id: Option<i64>,
    published_from: Option<NaiveDate>,
    published_to: Option<NaiveDate>,
    available: Option<bool>,
) -> ApiResult<BookFilter> {
    if retired_title {
        // Refused rather than ignored: a client still sending it would silently get the unfiltered list.
        return Err(ServiceError::Validation {
            field: "title",
            message: "is no longer supported: use q, which matches words of the title and the authors' names"
                .to_owned(),
        }
        .into());
    }
    Ok(BookFilter {
        published_from: published_from.map(|d| CalendarDate::parse("published_from", d)).transpose()?,
        published_to: published_to.map(|d| CalendarDate::parse("published_to", d)).transpose()?,
        q: q.as_deref().map(SearchQuery::parse).transpose()?.flatten(),
        author_id,
        available,
    })
}

#[derive(Debug, Default)]
pub struct BooksApi;

#[OpenApi(tag = "Tag::Books")]
impl BooksApi {
    /// List books
    ///
    /// Keyset-paginated in id order; filters combine. With `q`, a search: every word must be a word of the
    /// title or of an author's name, ignoring case and accents, the last word also as a prefix
    /// (`q=bronte` finds "Wuthering Heights" by Emily Brontë, `q=le guin` Ursula K. Le Guin's books,
    /// `q=dun` finds "Dune"). Results whose title holds every word come first, then those found through
    /// their authors, each in id order; the cursor keeps that order. At most 200 characters, 8 words of at
    /// most 64 characters each, and at least one letter or digit. The retired `title` filter is refused
    /// with 422.
    #[oai(path = "/books", method = "get", operation_id = "listBooks")]
    #[expect(clippy::too_many_arguments, reason = "one parameter per documented query filter")]
    async fn list(
        &self,
        state: State<'_>,
        req: &Request,
        /// Search words, e.g. `le guin` or `dun` (see the operation's description).
        Query(q): Query<Option<String>>,
        /// Only books credited to this author.
        Query(author_id): Query<Option<i64>>,
        /// Published on or after this date.
        Query(published_from): Query<Option<NaiveDate>>,
        /// Published on or before this date.
        Query(published_to): Query<Option<NaiveDate>>,
        /// `true`: only books not on loan; `false`: only books on loan.
        Query(available): Query<Option<bool>>,
        /// `next_cursor` of the previous page.
        Query(cursor): Query<Option<String>>,
        /// Page size, 1 to 100 (default 20).
        Query(limit): Query<Option<i64>>,
    ) -> ApiResult<DirectJson<BookPage>> {
        let page = page(cursor, limit)?;
        let mut filter =
            book_filter(names_retired_title(req), q, author_id, published_from, published_to, available)?;
        state.common_words.judge(&state.db, &mut filter).await;
        Ok(DirectJson(svc::list(&state.db, &filter, &page).await?.into()))
    }

    /// List available books
    ///
    /// Books not on loan right now, paginated, filtered and searched (`q`) like `listBooks`.
    #[oai(path = "/books/available", method = "get", operation_id = "listAvailableBooks")]
    #[expect(clippy::too_many_arguments, reason = "one parameter per documented query filter")]
    async fn available(
        &self,
        state: State<'_>,
        req: &Request,
        /// Search words, e.g. `le guin` or `dun` (see the operation's description).
        Query(q): Query<Option<String>>,
        /// Only books credited to this author.
        Query(author_id): Query<Option<i64>>,
        /// Published on or after this date.
        Query(published_from): Query<Option<NaiveDate>>,
        /// Published on or before this date.
        Query(published_to): Query<Option<NaiveDate>>,
        /// `next_cursor` of the previous page.
        Query(cursor): Query<Option<String>>,
        /// Page size, 1 to 100 (default 20).
        Query(limit): Query<Option<i64>>,
    ) -> ApiResult<DirectJson<BookPage>> {
        let page = page(cursor, limit)?;
        let mut filter =
            book_filter(names_retired_title(req), q, author_id, published_from, published_to, None)?;
        state.common_words.judge(&state.db, &mut filter).await;
        Ok(DirectJson(svc::available(&state.db, &filter, &page).await?.into()))
    }

    /// Add a book
    ///
    /// Librarians only.
    #[oai(
        path = "/books",
        method = "post",
        operation_id = "createBook",
        response_header(
            name = "Idempotent-Replayed",
            ty = "Option<bool>",
            description = "`true` on an answer replayed for a retry with the same `Idempotency-Key`"
        )
    )]
    async fn create(
        &self,
        token: Token,
        db: Db<'_>,
        base: Data<&BasePath>,
        /// Makes the request safe to retry (optional): a retry with the same key and the same request
        /// gets the first answer again, marked `Idempotent-Replayed: true`, instead of running twice.
        /// Scoped to the caller and this operation; kept a day. 1 to 255 printable ASCII characters
        /// (a UUID is a good choice). The same key with another request: 422; while the first request
        /// with it still runs: 409 with `Retry-After`.
        #[oai(
            name = "Idempotency-Key",
            validator(
                pattern = r#"^[ \t]*(?:[!-~]|[!#-~][ -~]{0,253}[!-~]|"[ -~]{0,253}[!#-~]|"[ -~]{1,253}")[ \t]*$"#
            )
        )]
        Header(_idempotency_key): Header<Option<String>>,
        body: Json<NewBook>,
    ) -> ApiResult<BookCreated> {
        token.librarian()?;
        let book = Book::from(svc::create(&*db, body.0.try_into()?).await?);
        let location = base.location(&format!("/books/{}", book.id));
        Ok(BookCreated::Created(Json(book), location))
    }

    /// Get a book
    ///
    /// The book with its authors, whether it is on loan (and until when) and its review statistics.
    /// `ETag` changes whenever anything shown here does (a check-out, a review, an author renamed).
    #[oai(path = "/books/:id", method = "get", operation_id = "getBook")]
    async fn get(
        &self,
        state: State<'_>,
        Path(id): Path<i64>,
        /// The `ETag` of the copy you hold: 304 with no body if it is still current.
        #[oai(
            name = "If-None-Match",
            validator(pattern = r#"^[ \t]*(\*|((W/)?"[!#-~]*")?([ \t]*,[ \t]*((W/)?"[!#-~]*")?)*)[ \t]*$"#)
        )]
        Header(if_none_match): Header<Option<String>>,
    ) -> ApiResult<Fetched<Book>> {
        let detail = svc::get(&state.db, id).await?;
        Fetched::answer(&detail.revision(), if_none_match.as_deref(), || detail.into())
    }

    /// Update a book
    ///
    /// Changes the given fields only; `null` clears `isbn` or `published_date`. With `If-Match`, only if
    /// the book is still as read (else 412).
    ///
    /// Librarians only.
    #[oai(path = "/books/:id", method = "patch", operation_id = "updateBook")]
    async fn update(
        &self,
        token: Token,
        state: State<'_>,
        Path(id): Path<i64>,
        /// The book's `ETag` as you read it: the change is made only if it is still current (else 412).
        #[oai(
            name = "If-Match",
            validator(pattern = r#"^[ \t]*(\*|((W/)?"[!#-~]*")?([ \t]*,[ \t]*((W/)?"[!#-~]*")?)*)[ \t]*$"#)
        )]
        Header(if_match): Header<Option<String>>,
        body: Json<BookPatch>,
    ) -> ApiResult<Saved<Book>> {
        token.librarian()?;
        let expected = expected(if_match.as_deref(), state.require_if_match)?;
        let detail = svc::update_if(&state.db, id, body.0.try_into()?, &expected).await?;
        Ok(Saved::new(&detail.revision(), detail.into()))
    }

    /// Delete a book
    ///
    /// Refused with `book_on_loan` while the book is on loan. Its reviews and loan history go with it.
    ///
    /// Librarians only.
    #[oai(path = "/books/:id", method = "delete", operation_id = "deleteBook")]
    async fn delete(
        &self,
        token: Token,
        state: State<'_>,
        Path(id): Path<i64>,
        /// The book's `ETag` as you read it: deleted only if it is still current (else 412).
        #[oai(
            name = "If-Match",
            validator(pattern = r#"^[ \t]*(\*|((W/)?"[!#-~]*")?([ \t]*,[ \t]*((W/)?"[!#-~]*")?)*)[ \t]*$"#)
        )]
        Header(if_match): Header<Option<String>>,
    ) -> ApiResult<Deleted> {
        token.librarian()?;
        svc::delete_if(&state.db, id, &expected(if_match.as_deref(), state.require_if_match)?).await?;
        Ok(Deleted::NoContent)
    }

    /// Replace a book's authors
    ///
    /// `If-Match` takes the book's `ETag`: the author list is part of the book.
    ///
    /// Librarians only.
    #[oai(path = "/books/:id/authors", method = "put", operation_id = "replaceBookAuthors")]
    async fn replace_authors(
        &self,
        token: Token,
        state: State<'_>,
        Path(id): Path<i64>,
        /// The book's `ETag` as you read it: replaced only if it is still current (else 412).
        #[oai(
            name = "If-Match",
            validator(pattern = r#"^[ \t]*(\*|((W/)?"[!#-~]*")?([ \t]*,[ \t]*((W/)?"[!#-~]*")?)*)[ \t]*$"#)
        )]
        Header(if_match): Header<Option<String>>,
        body: Json<BookAuthors>,
    ) -> ApiResult<Json<Vec<Author>>> {
        token.librarian()?;
        let expected = expected(if_match.as_deref(), state.require_if_match)?;
        let authors = svc::set_authors_if(&state.db, id, body.0.author_ids, &expected).await?;
        Ok(Json(authors.into_iter().map(Author::from).collect()))
    }

    /// Credit an author on a book
    ///
    /// Adding an author already credited changes nothing.
    ///
    /// Librarians only.
    #[oai(
        path = "/books/:id/authors",
        method = "post",
        operation_id = "addBookAuthor",
        response_header(
            name = "Idempotent-Replayed",
            ty = "Option<bool>",
            description = "`true` on an answer replayed for a retry with the same `Idempotency-Key`"
        )
    )]
    async fn add_author(
        &self,
        token: Token,
        db: Db<'_>,
        Path(id): Path<i64>,
        /// Makes the request safe to retry (optional): a retry with the same key and the same request
        /// gets the first answer again, marked `Idempotent-Replayed: true`, instead of running twice.
        /// Scoped to the caller and this operation; kept a day. 1 to 255 printable ASCII characters
        /// (a UUID is a good choice). The same key with another request: 422; while the first request
        /// with it still runs: 409 with `Retry-After`.
        #[oai(
            name = "Idempotency-Key",
            validator(
                pattern = r#"^[ \t]*(?:[!-~]|[!#-~][ -~]{0,253}[!-~]|"[ -~]{0,253}[!#-~]|"[ -~]{1,253}")[ \t]*$"#
            )
        )]
        Header(_idempotency_key): Header<Option<String>>,
        body: Json<NewBookAuthor>,
    ) -> ApiResult<Json<Vec<Author>>> {
        token.librarian()?;
        let authors = svc::add_author(&*db, id, body.0.author_id).await?;
        Ok(Json(authors.into_iter().map(Author::from).collect()))
    }

    /// Remove an author from a book
    ///
    /// `If-Match` takes the book's `ETag`: the author list is part of the book.
    ///
    /// Librarians only.
    #[oai(path = "/books/:id/authors/:author_id", method = "delete", operation_id = "removeBookAuthor")]
    async fn remove_author(
        &self,
        token: Token,
        state: State<'_>,
        Path(id): Path<i64>,
        Path(author_id): Path<i64>,
        /// The book's `ETag` as you read it: removed only if it is still current (else 412).
        #[oai(
            name = "If-Match",
            validator(pattern = r#"^[ \t]*(\*|((W/)?"[!#-~]*")?([ \t]*,[ \t]*((W/)?"[!#-~]*")?)*)[ \t]*$"#)
        )]
        Header(if_match): Header<Option<String>>,
    ) -> ApiResult<Json<Vec<Author>>> {
        token.librarian()?;
        let expected = expected(if_match.as_deref(), state.require_if_match)?;
        let authors = svc::remove_author_if(&state.db, id, author_id, &expected).await?;
        Ok(Json(authors.into_iter().map(Author::from).collect()))
    }

    /// List a book's reviews
    ///
    /// Public; `borrower_id` is shown only to librarians and on the reader's own reviews.
    #[oai(
        path = "/books/:id/reviews",
        method = "get",
        operation_id = "listBookReviews",
        transform = "varies_by_token"
    )]
    async fn reviews(
        &self,
        token: MaybeToken,
        state: State<'_>,
        Path(id): Path<i64>,
        /// `next_cursor` of the previous page.
        Query(cursor): Query<Option<String>>,
        /// Page size, 1 to 100 (default 20).
        Query(limit): Query<Option<i64>>,
    ) -> ApiResult<Json<ReviewPage>> {
        let reader = token.review_reader(&state.db).await?;
        let reviews = ReviewPage::from(reviews_svc::of_book(&state.db, id, &page(cursor, limit)?).await?);
        Ok(Json(reviews.seen_by(reader)))
    }

    /// Review a book
    ///
    /// Only a borrower who has borrowed the book (now or before) may review it, once. A borrower writes
    /// their own reviews (`borrower_id` must be theirs); a librarian may write one for any borrower.
    #[oai(
        path = "/books/:id/reviews",
        method = "post",
        operation_id = "createReview",
        response_header(
            name = "Idempotent-Replayed",
            ty = "Option<bool>",
            description = "`true` on an answer replayed for a retry with the same `Idempotency-Key`"
        )
    )]
    async fn create_review(
        &self,
        token: Token,
        db: Db<'_>,
        base: Data<&BasePath>,
        Path(id): Path<i64>,
        /// Makes the request safe to retry (optional): a retry with the same key and the same request
        /// gets the first answer again, marked `Idempotent-Replayed: true`, instead of running twice.
        /// Scoped to the caller and this operation; kept a day. 1 to 255 printable ASCII characters
        /// (a UUID is a good choice). The same key with another request: 422; while the first request
        /// with it still runs: 409 with `Retry-After`.
        #[oai(
            name = "Idempotency-Key",
            validator(
                pattern = r#"^[ \t]*(?:[!-~]|[!#-~][ -~]{0,253}[!-~]|"[ -~]{0,253}[!#-~]|"[ -~]{1,253}")[ \t]*$"#
            )
        )]
        Header(_idempotency_key): Header<Option<String>>,
        body: Json<NewReview>,
    ) -> ApiResult<ReviewCreated> {
        let Json(input) = body;
        token.actor(&*db).await?.may_act_for(input.borrower_id, token.librarian_scope())?;
        let review = Review::from(reviews_svc::create(&*db, input.of_book(id)?).await?);
        let location = base.location(&format!("/reviews/{}", review.id));
        Ok(ReviewCreated::Created(Json(review), location))
    }
}
