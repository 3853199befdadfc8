//! `/reviews/{id}`: reading, editing and deleting one review (create and list live under the book).

use poem_openapi::OpenApi;
use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use service::reviews::{self as svc, ReviewChanges};

use super::{ApiResult, Deleted, State, Tag, maybe, present};
use crate::dto::{Review, ReviewPatch};
use crate::text::Text;

#[derive(Debug, Default)]
pub struct ReviewsApi;

#[OpenApi(tag = "Tag::Reviews")]
impl ReviewsApi {
    /// Get a review
    #[oai(path = "/reviews/:id", method = "get", operation_id = "getReview")]
    async fn get(&self, state: State<'_>, Path(id): Path<i64>) -> ApiResult<Json<Review>> {
        Ok(Json(svc::get(&state.db, id).await?.into()))
    }

    /// Edit a review
    ///
    /// `comment: null` removes the comment.
    #[oai(path = "/reviews/:id", method = "patch", operation_id = "updateReview")]
    async fn update(
        &self,
        state: State<'_>,
        Path(id): Path<i64>,
        body: Json<ReviewPatch>,
    ) -> ApiResult<Json<Review>> {
        let Json(patch) = body;
        let changes = ReviewChanges {
            rating: present("rating", patch.rating, |rating| rating)?,
            comment: maybe(patch.comment, Text::into_inner),
        };
        Ok(Json(svc::update(&state.db, id, changes).await?.into()))
    }

    /// Delete a review
    #[oai(path = "/reviews/:id", method = "delete", operation_id = "deleteReview")]
    async fn delete(&self, state: State<'_>, Path(id): Path<i64>) -> ApiResult<Deleted> {
        svc::delete(&state.db, id).await?;
        Ok(Deleted::NoContent)
    }
}
