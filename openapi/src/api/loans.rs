//! `/loans`: check-out, return, renewal.

use poem::web::Data;
use poem_openapi::OpenApi;
use poem_openapi::param::{Header, Path, Query};
use poem_openapi::payload::Json;
use service::loans::{self as svc, LoanFilter};

use super::access::{Actor, Token};
use super::{ApiResult, BasePath, Db, LoanCreated, State, Tag, page};
use crate::dto::{Loan, LoanPage, NewLoan};

#[derive(Debug, Default)]
pub struct LoansApi;

#[OpenApi(tag = "Tag::Loans")]
impl LoansApi {
    /// Check out a book
    ///
    /// Librarians only. Conflicts: `book_on_loan`, `loan_limit_reached`, `borrower_has_overdue_loans`.
    #[oai(
        path = "/loans",
        method = "post",
        operation_id = "checkOutBook",
        response_header(
            name = "Idempotent-Replayed",
            ty = "Option<bool>",
            description = "`true` on an answer replayed for a retry with the same `Idempotency-Key`"
        )
    )]
    async fn check_out(
        &self,
        token: Token,
        state: State<'_>,
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
        body: Json<NewLoan>,
    ) -> ApiResult<LoanCreated> {
        token.librarian()?;
        let loan = Loan::from(svc::check_out(&*db, &state.policy, body.0.into()).await?);
        let location = base.location(&format!("/loans/{}", loan.id));
        Ok(LoanCreated::Created(Json(loan), location))
    }

    /// List active loans
    ///
    /// Librarians see every loan; a borrower sees only their own (`borrower_id` may name only them).
    #[oai(path = "/loans", method = "get", operation_id = "listLoans")]
    #[expect(clippy::too_many_arguments, reason = "one per query parameter, as poem-openapi declares them")]
    async fn list(
        &self,
        token: Token,
        state: State<'_>,
        /// Only this borrower's loans.
        Query(borrower_id): Query<Option<i64>>,
        /// Only loans of this book.
        Query(book_id): Query<Option<i64>>,
        /// `true`: only overdue loans; `false`: only loans still in time.
        Query(overdue): Query<Option<bool>>,
        /// `next_cursor` of the previous page.
        Query(cursor): Query<Option<String>>,
        /// Page size, 1 to 100 (default 20).
        Query(limit): Query<Option<i64>>,
    ) -> ApiResult<Json<LoanPage>> {
        let borrower_id = match token.actor(&state.db).await? {
            Actor::Librarian => borrower_id,
            actor @ Actor::Borrower(own) => {
                actor.may_act_for(borrower_id.unwrap_or(own), token.librarian_scope())?;
                Some(own)
            }
        };
        let filter = LoanFilter { borrower_id, book_id, overdue };
        Ok(Json(svc::list(&state.db, &filter, &page(cursor, limit)?).await?.into()))
    }

    /// Return a book
    ///
    /// Librarians only. The loan moves to the borrower's history; `returned_late` tells whether it was
    /// overdue.
    #[oai(
        path = "/loans/:id/return",
        method = "post",
        operation_id = "returnLoan",
        response_header(
            name = "Idempotent-Replayed",
            ty = "Option<bool>",
            description = "`true` on an answer replayed for a retry with the same `Idempotency-Key`"
        )
    )]
    async fn return_loan(
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
    ) -> ApiResult<Json<Loan>> {
        token.librarian()?;
        Ok(Json(svc::return_loan(&*db, id).await?.loan.into()))
    }

    /// Renew a loan
    ///
    /// Librarians only. Extends the due date by one loan period. Conflicts: `renewal_limit_reached`,
    /// `loan_overdue`.
    #[oai(
        path = "/loans/:id/renew",
        method = "post",
        operation_id = "renewLoan",
        response_header(
            name = "Idempotent-Replayed",
            ty = "Option<bool>",
            description = "`true` on an answer replayed for a retry with the same `Idempotency-Key`"
        )
    )]
    async fn renew(
        &self,
        token: Token,
        state: State<'_>,
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
    ) -> ApiResult<Json<Loan>> {
        token.librarian()?;
        Ok(Json(svc::renew(&*db, &state.policy, id).await?.into()))
    }
}
