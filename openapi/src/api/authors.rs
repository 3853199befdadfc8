//! `/authors`.

use poem::web::Data;
use poem_openapi::OpenApi;
use poem_openapi::param::{Header, Path, Query};
use poem_openapi::payload::Json;
use service::domain::SearchTerm;
use service::versioning::revision;
use service::{authors as svc, books};

use super::access::Token;
use super::conditional::{Fetched, Saved, expected};
use super::{ApiResult, AuthorCreated, BasePath, Db, Deleted, DirectJson, State, Tag, page, search};
use crate::dto::{Author, AuthorPage, AuthorPatch, BookPage, NewAuthor};

#[derive(Debug, Default)]
pub struct AuthorsApi;

#[OpenApi(tag = "Tag::Authors")]
impl AuthorsApi {
    /// List authors
    #[oai(path = "/authors", method = "get", operation_id = "listAuthors")]
    async fn list(
        &self,
        state: State<'_>,
        /// Case-insensitive substring of the name.
        Query(name): Query<Option<String>>,
        /// `next_cursor` of the previous page.
        Query(cursor): Query<Option<String>>,
        /// Page size, 1 to 100 (default 20).
        Query(limit): Query<Option<i64>>,
    ) -> ApiResult<Json<AuthorPage>> {
        let page = page(cursor, limit)?;
        let name = search(name, SearchTerm::name)?;
        Ok(Json(svc::list(&state.db, name.as_ref(), &page).await?.into()))
    }

    /// Add an author
    ///
    /// Librarians only.
    #[oai(
        path = "/authors",
        method = "post",
        operation_id = "createAuthor",
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
        body: Json<NewAuthor>,
    ) -> ApiResult<AuthorCreated> {
        token.librarian()?;
        let author = Author::from(svc::create(&*db, body.0.try_into()?).await?);
        let location = base.location(&format!("/authors/{}", author.id));
        Ok(AuthorCreated::Created(Json(author), location))
    }

    /// Get an author
    #[oai(path = "/authors/:id", method = "get", operation_id = "getAuthor")]
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
    ) -> ApiResult<Fetched<Author>> {
        let author = svc::get(&state.db, id).await?;
        Fetched::answer(&revision(author.version), if_none_match.as_deref(), || author.into())
    }

    /// Rename an author
    ///
    /// Librarians only.
    #[oai(path = "/authors/:id", method = "patch", operation_id = "updateAuthor")]
    async fn update(
        &self,
        token: Token,
        state: State<'_>,
        Path(id): Path<i64>,
        /// The author's `ETag` as you read it: renamed only if it is still current (else 412).
        #[oai(
            name = "If-Match",
            validator(pattern = r#"^[ \t]*(\*|((W/)?"[!#-~]*")?([ \t]*,[ \t]*((W/)?"[!#-~]*")?)*)[ \t]*$"#)
        )]
        Header(if_match): Header<Option<String>>,
        body: Json<AuthorPatch>,
    ) -> ApiResult<Saved<Author>> {
        token.librarian()?;
        let expected = expected(if_match.as_deref(), state.require_if_match)?;
        let author = svc::rename_if(&state.db, id, body.0.try_into()?, &expected).await?;
        Ok(Saved::new(&revision(author.version), author.into()))
    }

    /// Delete an author
    ///
    /// The author is removed from the books they were credited on; the books stay.
    ///
    /// Librarians only.
    #[oai(path = "/authors/:id", method = "delete", operation_id = "deleteAuthor")]
    async fn delete(
        &self,
        token: Token,
        state: State<'_>,
        Path(id): Path<i64>,
        /// The author's `ETag` as you read it: deleted only if it is still current (else 412).
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

    /// List an author's books
    #[oai(path = "/authors/:id/books", method = "get", operation_id = "listAuthorBooks")]
    async fn books(
        &self,
        state: State<'_>,
        Path(id): Path<i64>,
        /// `next_cursor` of the previous page.
        Query(cursor): Query<Option<String>>,
        /// Page size, 1 to 100 (default 20).
        Query(limit): Query<Option<i64>>,
    ) -> ApiResult<DirectJson<BookPage>> {
        Ok(DirectJson(books::of_author(&state.db, id, &page(cursor, limit)?).await?.into()))
    }
}
