//! `Cache-Control: no-store` on every answer to a request that carries credentials.
//!
//! What a librarian or a borrower reads (borrower records, loans, who wrote a review) must not be kept by
//! a browser's disk cache or a shared proxy and handed to the next person on that machine or network.
//! Decided on the request, not on the outcome: a refused token's 401 says nothing worth caching either.

use std::sync::Arc;

use poem::http::HeaderValue;
use poem::http::header::{AUTHORIZATION, CACHE_CONTROL};
use poem::{Endpoint, IntoResponse, Request, Response};

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
