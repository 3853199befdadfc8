//! `/reviews/{id}`: reading, editing and deleting one review (create and list live under the book).

use poem_openapi::OpenApi;
use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use service::reviews as svc;

use super::access::{Actor, MaybeToken, Token};
use super::{ApiResult, Deleted, State, Tag};
use crate::dto::{Review, ReviewPatch};

#[derive(Debug, Default)]
pub struct ReviewsApi;

#[OpenApi(tag = "Tag::Reviews")]
impl ReviewsApi {
    /// Get a review
    ///
    /// Public; `borrower_id` is shown only to librarians and to the review's author.
    #[oai(path = "/reviews/:id", method = "get", operation_id = "getReview")]
    async fn get(&self, token: MaybeToken, state: State<'_>, Path(id): Path<i64>) -> ApiResult<Json<Review>> {
        let reader = token.review_reader(&state.db).await?;
        Ok(Json(Review::from(svc::get(&state.db, id).await?).seen_by(reader)))
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
        body: Json<ReviewPatch>,
    ) -> ApiResult<Json<Review>> {
        authorise(&token, &state.db, id).await?;
        Ok(Json(svc::update(&state.db, id, body.0.try_into()?).await?.into()))
    }

    /// Delete a review
    ///
    /// Its author or a librarian.
    #[oai(path = "/reviews/:id", method = "delete", operation_id = "deleteReview")]
    async fn delete(&self, token: Token, state: State<'_>, Path(id): Path<i64>) -> ApiResult<Deleted> {
        authorise(&token, &state.db, id).await?;
        svc::delete(&state.db, id).await?;
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
