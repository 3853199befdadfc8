//! `/borrowers`.

use poem::web::Data;
use poem_openapi::param::{Header, Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{Enum, OpenApi};
use service::borrowers::{self as svc, BorrowerFilter};
use service::domain::SearchTerm;
use service::loans;
use service::versioning::revision;

use super::access::Token;
use super::conditional::{Fetched, Saved, expected};
use super::{ApiResult, BasePath, BorrowerCreated, Db, Deleted, State, Tag, page, search};
use crate::dto::{Borrower, BorrowerPage, BorrowerPatch, LoanPage, NewBorrower};

#[derive(Debug, Default)]
pub struct BorrowersApi;

/// Which of a borrower's loans to list.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Enum)]
#[oai(rename_all = "snake_case")]
pub enum LoanStatus {
    /// Loans held now.
    #[default]
    Current,
    /// Loans already returned.
    Returned,
}

#[OpenApi(tag = "Tag::Borrowers")]
impl BorrowersApi {
    /// List borrowers
    ///
    /// Librarians only.
    #[oai(path = "/borrowers", method = "get", operation_id = "listBorrowers")]
    async fn list(
        &self,
        token: Token,
        state: State<'_>,
        /// Case-insensitive substring of the name.
        Query(name): Query<Option<String>>,
        /// Case-insensitive substring of the e-mail address.
        Query(email): Query<Option<String>>,
        /// `next_cursor` of the previous page.
        Query(cursor): Query<Option<String>>,
        /// Page size, 1 to 100 (default 20).
        Query(limit): Query<Option<i64>>,
    ) -> ApiResult<Json<BorrowerPage>> {
        token.librarian()?;
        let page = page(cursor, limit)?;
        let filter = BorrowerFilter {
            name: search(name, SearchTerm::name)?,
            email: search(email, SearchTerm::email)?,
        };
        Ok(Json(svc::list(&state.db, &filter, &page).await?.into()))
    }

    /// Register a borrower
    ///
    /// Librarians only. E-mail addresses are unique, ignoring case (`email_taken`); so are login subjects
    /// (`subject_taken`).
    #[oai(
        path = "/borrowers",
        method = "post",
        operation_id = "createBorrower",
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
        body: Json<NewBorrower>,
    ) -> ApiResult<BorrowerCreated> {
        token.librarian()?;
        let borrower = Borrower::from(svc::register(&*db, body.0.try_into()?).await?);
        let location = base.location(&format!("/borrowers/{}", borrower.id));
        Ok(BorrowerCreated::Created(Json(borrower), location))
    }

    /// Get a borrower
    ///
    /// Librarians, and the borrower themselves.
    #[oai(path = "/borrowers/:id", method = "get", operation_id = "getBorrower")]
    async fn get(
        &self,
        token: Token,
        state: State<'_>,
        Path(id): Path<i64>,
        /// The `ETag` of the copy you hold: 304 with no body if it is still current.
        #[oai(
            name = "If-None-Match",
            validator(pattern = r#"^[ \t]*(\*|((W/)?"[!#-~]*")?([ \t]*,[ \t]*((W/)?"[!#-~]*")?)*)[ \t]*$"#)
        )]
        Header(if_none_match): Header<Option<String>>,
    ) -> ApiResult<Fetched<Borrower>> {
        token.librarian_or(&state.db, id).await?;
        let borrower = svc::get(&state.db, id).await?;
        Fetched::answer(&revision(borrower.version), if_none_match.as_deref(), || borrower.into())
    }

    /// Update a borrower
    ///
    /// Librarians only.
    #[oai(path = "/borrowers/:id", method = "patch", operation_id = "updateBorrower")]
    async fn update(
        &self,
        token: Token,
        state: State<'_>,
        Path(id): Path<i64>,
        /// The borrower's `ETag` as you read it: changed only if it is still current (else 412).
        #[oai(
            name = "If-Match",
            validator(pattern = r#"^[ \t]*(\*|((W/)?"[!#-~]*")?([ \t]*,[ \t]*((W/)?"[!#-~]*")?)*)[ \t]*$"#)
        )]
        Header(if_match): Header<Option<String>>,
        body: Json<BorrowerPatch>,
    ) -> ApiResult<Saved<Borrower>> {
        token.librarian()?;
        let expected = expected(if_match.as_deref(), state.require_if_match)?;
        let borrower = svc::update_if(&state.db, id, body.0.try_into()?, &expected).await?;
        Ok(Saved::new(&revision(borrower.version), borrower.into()))
    }

    /// Delete a borrower
    ///
    /// Librarians only. Refused with `borrower_has_loans` while they hold a loan. Their reviews and history
    /// go with them.
    #[oai(path = "/borrowers/:id", method = "delete", operation_id = "deleteBorrower")]
    async fn delete(
        &self,
        token: Token,
        state: State<'_>,
        Path(id): Path<i64>,
        /// The borrower's `ETag` as you read it: deleted only if it is still current (else 412).
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

    /// List a borrower's loans
    ///
    /// Librarians, and the borrower themselves. `status=current` (default) lists the loans held now;
    /// `status=returned` the loan history.
    #[oai(path = "/borrowers/:id/loans", method = "get", operation_id = "listBorrowerLoans")]
    async fn loans(
        &self,
        token: Token,
        state: State<'_>,
        Path(id): Path<i64>,
        /// Current loans or returned ones.
        Query(status): Query<Option<LoanStatus>>,
        /// `next_cursor` of the previous page.
        Query(cursor): Query<Option<String>>,
        /// Page size, 1 to 100 (default 20).
        Query(limit): Query<Option<i64>>,
    ) -> ApiResult<Json<LoanPage>> {
        token.librarian_or(&state.db, id).await?;
        let page = page(cursor, limit)?;
        Ok(Json(match status.unwrap_or_default() {
            LoanStatus::Current => loans::current_of(&state.db, id, &page).await?.into(),
            LoanStatus::Returned => loans::history_of(&state.db, id, &page).await?.into(),
        }))
    }
}
