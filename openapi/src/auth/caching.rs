//! `Cache-Control: no-store` on every answer to a request that carries credentials, and `Vary:
//! Authorization` on the public answers that a token would change.
//!
//! What a librarian or a borrower reads (borrower records, loans, who wrote a review) must not be kept by
//! a browser's disk cache or a shared proxy and handed to the next person on that machine or network.
//! Decided on the request, not on the outcome: a refused token's 401 says nothing worth caching either.

use std::sync::Arc;

use poem::http::HeaderValue;
use poem::http::header::{AUTHORIZATION, CACHE_CONTROL, VARY};
use poem::middleware::SetHeader;
use poem::{Endpoint, EndpointExt, IntoResponse, Request, Response};

pub(crate) async fn no_store_when_authenticated<E: Endpoint>(
    next: Arc<E>,
    req: Request,
) -> poem::Result<Response> {
    let authenticated = req.headers().contains_key(AUTHORIZATION);
    let mut response = next.call(req).await?.into_response();
    if authenticated {
        response.headers_mut().insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    Ok(response)
}

/// `Vary: Authorization` on the answers (200, 304) of an operation whose public answer differs from what a
/// token shows (who wrote a review). The answers to a token are `no-store`, but the public one may be kept,
/// and a cache must not hand that copy to a librarian, nor answer their `If-None-Match` with it. Its errors
/// (a missing review) are the same for everyone and go out without it.
pub(crate) fn varies_by_token(endpoint: impl Endpoint) -> impl Endpoint {
    endpoint.with(SetHeader::new().appending(VARY, "Authorization"))
}
