//! `/reviews/{id}`: reading, editing and deleting one review (create and list live under the book).

use poem_openapi::OpenApi;
use poem_openapi::param::{Header, Path};
use poem_openapi::payload::Json;
use service::reviews as svc;
use service::versioning::revision;

use super::access::{Actor, MaybeToken, Token};
use super::conditional::{Fetched, Saved, expected};
use super::{ApiResult, Deleted, State, Tag};
use crate::auth::caching::varies_by_token;
use crate::dto::{Review, ReviewPatch};

#[derive(Debug, Default)]
pub struct ReviewsApi;

#[OpenApi(tag = "Tag::Reviews")]
impl ReviewsApi {
    /// Get a review
    ///
    /// Public; `borrower_id` is shown only to librarians and to the review's author.
    #[oai(path = "/reviews/:id", method = "get", operation_id = "getReview", transform = "varies_by_token")]
    async fn get(
        &self,
        token: MaybeToken,
        state: State<'_>,
        Path(id): Path<i64>,
        /// The `ETag` of the copy you hold: 304 with no body if it is still current.
        #[oai(
            name = "If-None-Match",
            validator(pattern = r#"^[ \t]*(\*|((W/)?"[!#-~]*")?([ \t]*,[ \t]*((W/)?"[!#-~]*")?)*)[ \t]*$"#)
        )]
        Header(if_none_match): Header<Option<String>>,
    ) -> ApiResult<Fetched<Review>> {
        let reader = token.review_reader(&state.db).await?;
        let model = svc::get(&state.db, id).await?;
        let version = model.version;
        let review = Review::from(model).seen_by(reader);
        // A strong tag names one representation: the copy without `borrower_id` is another one.
        let tag = match review.borrower_id {
            Some(_) => revision(version),
            None => format!("{}-public", revision(version)),
        };
        Fetched::answer(&tag, if_none_match.as_deref(), || review)
    }

    /// Edit a review
    ///
    /// Its author or a librarian. `comment: null` removes the comment.
    #[oai(path = "/reviews/:id", method = "patch", operation_id = "updateReview")]
    async fn update(
        &self,
        token: Token,
        state: State<'_>,
        Path(id): Path<i64>,
        /// The review's `ETag` as you read it: changed only if it is still current (else 412).
        #[oai(
            name = "If-Match",
            validator(pattern = r#"^[ \t]*(\*|((W/)?"[!#-~]*")?([ \t]*,[ \t]*((W/)?"[!#-~]*")?)*)[ \t]*$"#)
        )]
        Header(if_match): Header<Option<String>>,
        body: Json<ReviewPatch>,
    ) -> ApiResult<Saved<Review>> {
        authorise(&token, &state.db, id).await?;
        let expected = expected(if_match.as_deref(), state.require_if_match)?;
        let review = svc::update_if(&state.db, id, body.0.try_into()?, &expected).await?;
        Ok(Saved::new(&revision(review.version), review.into()))
    }

    /// Delete a review
    ///
    /// Its author or a librarian.
    #[oai(path = "/reviews/:id", method = "delete", operation_id = "deleteReview")]
    async fn delete(
        &self,
        token: Token,
        state: State<'_>,
        Path(id): Path<i64>,
        /// The review's `ETag` as you read it: deleted only if it is still current (else 412).
        #[oai(
            name = "If-Match",
            validator(pattern = r#"^[ \t]*(\*|((W/)?"[!#-~]*")?([ \t]*,[ \t]*((W/)?"[!#-~]*")?)*)[ \t]*$"#)
        )]
        Header(if_match): Header<Option<String>>,
    ) -> ApiResult<Deleted> {
        authorise(&token, &state.db, id).await?;
        svc::delete_if(&state.db, id, &expected(if_match.as_deref(), state.require_if_match)?).await?;
        Ok(Deleted::NoContent)
    }
}

/// A librarian, or the borrower who wrote review `id`. A review never changes author, so checking before
/// the write is race-free.
async fn authorise(token: &Token, db: &sea_orm::DatabaseConnection, id: i64) -> ApiResult<()> {
    let actor = token.actor(db).await?;
    if let Actor::Borrower(_) = actor {
        let review = svc::get(db, id).await?;
        actor.may_act_for(review.borrower_id, token.librarian_scope())?;
    }
    Ok(())
}
