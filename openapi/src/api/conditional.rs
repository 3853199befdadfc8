//! Conditional requests (RFC 9110 §13): every single-resource `GET` answers with a strong `ETag` and
//! `304 Not Modified` when `If-None-Match` names it; `PATCH`, `PUT` and `DELETE` take `If-Match` and answer
//! `412` when the resource has moved on (`428` without one, when `LIBRIS_REQUIRE_IF_MATCH` is set). The
//! revision behind a tag and the atomic check are the service's (`service::versioning`); this module only
//! speaks HTTP.

use std::sync::Arc;

use poem::http::header;
use poem::{Endpoint, IntoResponse, Request, Response};
use poem_openapi::ApiResponse;
use poem_openapi::payload::Json;
use poem_openapi::types::{ParseFromJSON, ToJSON};
use service::Expected;

use super::ApiResult;
use crate::problem::ApiError;

/// Middleware: an `If-Match` or `If-None-Match` with a byte outside visible ASCII and tab is a 400.
///
/// poem's header parameters read such a value as no header at all, which would turn a malformed
/// precondition into an unconditional write (or read). No entity tag the server makes holds one, and the
/// spec's pattern for these headers allows none.
pub(crate) async fn readable_preconditions<E: Endpoint>(
    next: Arc<E>,
    req: Request,
) -> poem::Result<Response> {
    for name in [header::IF_MATCH, header::IF_NONE_MATCH] {
        let unreadable = req
            .headers()
            .get_all(&name)
            .iter()
            .any(|value| !value.as_bytes().iter().all(|b| *b == b'\t' || (0x20..0x7f).contains(b)));
        if unreadable {
            let detail = format!("{name}: not `*` or a list of entity tags (only visible ASCII is)");
            return Ok(ApiError::malformed(detail).into_response());
        }
    }
    next.call(req).await.map(IntoResponse::into_response)
}

/// The strong entity tag of a revision.
#[must_use]
pub fn etag(revision: &str) -> String {
    format!("\"{revision}\"")
}

/// A resource, or word that the client's copy is still current.
#[derive(Debug, ApiResponse)]
pub enum Fetched<T: ParseFromJSON + ToJSON + Send + Sync> {
    /// The resource; `ETag` names this revision of it (send it back in `If-None-Match` or `If-Match`).
    #[oai(status = 200)]
    Ok(
        Json<T>,
        /// A strong tag naming this revision: send it back in `If-None-Match` or `If-Match`.
        #[oai(header = "ETag")]
        String,
    ),
    /// The revision named in `If-None-Match` is still the current one.
    #[oai(status = 304)]
    NotModified(
        /// The current revision's tag: the one you sent.
        #[oai(header = "ETag")]
        String,
    ),
}

impl<T: ParseFromJSON + ToJSON + Send + Sync> Fetched<T> {
    /// 304 if `if_none_match` names `revision`, else the resource (built only then).
    ///
    /// # Errors
    /// 400 for an `If-None-Match` that is not a list of entity tags.
    pub fn answer(
        revision: &str,
        if_none_match: Option<&str>,
        resource: impl FnOnce() -> T,
    ) -> ApiResult<Self> {
        let tag = etag(revision);
        match if_none_match.map(Tags::parse).transpose()? {
            Some(tags) if tags.weakly_match(revision) => Ok(Self::NotModified(tag)),
            _ => Ok(Self::Ok(Json(resource()), tag)),
        }
    }
}

/// A resource just changed, with the tag of its new revision.
#[derive(Debug, ApiResponse)]
pub enum Saved<T: ParseFromJSON + ToJSON + Send + Sync> {
    /// Changed; `ETag` names the new revision.
    #[oai(status = 200)]
    Ok(
        Json<T>,
        /// A strong tag naming the new revision: send it in `If-Match` with the next change.
        #[oai(header = "ETag")]
        String,
    ),
}

impl<T: ParseFromJSON + ToJSON + Send + Sync> Saved<T> {
    pub fn new(revision: &str, resource: T) -> Self {
        Self::Ok(Json(resource), etag(revision))
    }
}

/// What a write's `If-Match` asks for, as the service's expectation.
///
/// # Errors
/// 428 when the header is missing and `required`; 400 when it is not `*` or a list of entity tags.
pub fn expected(if_match: Option<&str>, required: bool) -> ApiResult<Expected> {
    match if_match.map(Tags::parse).transpose()? {
        None if required => Err(ApiError::precondition_required()),
        None | Some(Tags::Any) => Ok(Expected::Any),
        // Strong comparison (RFC 9110 §13.1.1): a weak tag never matches.
        Some(Tags::List(tags)) => {
            Ok(Expected::OneOf(tags.into_iter().filter(|t| !t.weak).map(|t| t.opaque).collect()))
        }
    }
}

/// An `If-Match` / `If-None-Match` value.
#[derive(Debug, PartialEq, Eq)]
enum Tags {
    /// `*`
    Any,
    List(Vec<Tag>),
}

#[derive(Debug, PartialEq, Eq)]
struct Tag {
    weak: bool,
    /// Between the quotes.
    opaque: String,
}

impl Tags {
    /// `*`, or a comma-separated list of entity tags (RFC 9110 §8.8.3): `"a", W/"b"`. Exactly what the
    /// spec's pattern for these headers allows. Empty list elements are skipped and an empty value is an
    /// empty list, as RFC 9110 §5.6.1.2 requires of a recipient (`"a", , "b"` is the list of `a` and `b`;
    /// an empty `If-Match` matches nothing, an empty `If-None-Match` leaves the `GET` unconditional).
    fn parse(raw: &str) -> ApiResult<Self> {
        const OWS: [char; 2] = [' ', '\t'];
        let malformed = || ApiError::malformed(format!("not `*` or a list of entity tags: {raw:?}"));
        if raw.trim_matches(OWS) == "*" {
            return Ok(Self::Any);
        }
        let mut tags = Vec::new();
        let mut rest = raw.trim_start_matches(OWS);
        while !rest.is_empty() {
            if let Some(after) = rest.strip_prefix(',') {
                rest = after.trim_start_matches(OWS);
                continue;
            }
            let (weak, quoted) = match rest.strip_prefix("W/") {
                Some(after) => (true, after),
                None => (false, rest),
            };
            let body = quoted.strip_prefix('"').ok_or_else(malformed)?;
            let end = body.find('"').ok_or_else(malformed)?;
            let opaque = &body[..end];
            if !opaque.bytes().all(|b| b == 0x21 || (0x23..=0x7e).contains(&b)) {
                return Err(malformed());
            }
            tags.push(Tag { weak, opaque: opaque.to_owned() });
            rest = body[end + 1..].trim_start_matches(OWS);
            if !rest.is_empty() && !rest.starts_with(',') {
                return Err(malformed());
            }
        }
        Ok(Self::List(tags))
    }

    /// Weak comparison (what `If-None-Match` uses): the opaque parts agree, weak or not.
    fn weakly_match(&self, revision: &str) -> bool {
        match self {
            Self::Any => true,
            Self::List(tags) => tags.iter().any(|t| t.opaque == revision),
        }
    }
}

#[cfg(test)]
mod tests {
    #![expect(clippy::unwrap_used, reason = "tests")]
    use super::*;

    fn tag(weak: bool, opaque: &str) -> Tag {
        Tag { weak, opaque: opaque.to_owned() }
    }

    #[test]
    fn entity_tag_lists_parse_as_rfc_9110_writes_them() {
        assert_eq!(Tags::parse("*").unwrap(), Tags::Any);
        assert_eq!(Tags::parse("\"3\"").unwrap(), Tags::List(vec![tag(false, "3")]));
        assert_eq!(
            Tags::parse("\"3-ab\" ,W/\"4\",\t\"\"").unwrap(),
            Tags::List(vec![tag(false, "3-ab"), tag(true, "4"), tag(false, "")])
        );
        for bad in ["3", "\"3", "\"3\" x", "W/3", "\"a\"b\"", "\"é\"", "*, \"a\"", "\"a\" *"] {
            assert!(Tags::parse(bad).is_err(), "{bad:?}");
        }
        // RFC 9110 §5.6.1.2: empty list elements are no elements; an empty value is an empty list.
        assert_eq!(Tags::parse("").unwrap(), Tags::List(vec![]));
        assert_eq!(Tags::parse(" , ,").unwrap(), Tags::List(vec![]));
        assert_eq!(Tags::parse(" * ").unwrap(), Tags::Any);
        assert_eq!(
            Tags::parse("\"a\",, \"b\",").unwrap(),
            Tags::List(vec![tag(false, "a"), tag(false, "b")])
        );
    }

    #[test]
    fn if_match_compares_strongly_and_if_none_match_weakly() {
        assert_eq!(expected(Some("W/\"3\", \"4\""), false).unwrap(), Expected::OneOf(vec!["4".to_owned()]));
        assert_eq!(expected(Some("*"), true).unwrap(), Expected::Any);
        assert_eq!(expected(None, false).unwrap(), Expected::Any);
        assert!(matches!(expected(None, true), Err(ApiError::PreconditionRequired(_))));
        assert!(Tags::parse("W/\"3\"").unwrap().weakly_match("3"));
        assert!(!Tags::parse("\"30\"").unwrap().weakly_match("3"));
        assert_eq!(
            expected(Some(""), false).unwrap(),
            Expected::OneOf(vec![]),
            "an empty If-Match matches nothing"
        );
        assert!(!Tags::parse("").unwrap().weakly_match("3"), "an empty If-None-Match matches nothing");
    }
}
