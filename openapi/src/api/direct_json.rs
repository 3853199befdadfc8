//! A JSON answer serialised straight to bytes, for the books lists.
//!
//! poem-openapi's `Json` turns the body into a `serde_json::Value` first (a node and an owned key per field,
//! in a sorted map) and serialises that: for a page of 20 books with their authors, most of the request's
//! own work. [`DirectJson`] serialises the same type with serde instead, and documents it exactly as `Json`
//! does (the type's schema, status 200), so the spec does not change; the type's serde form must be its
//! poem-openapi form, which `dto`'s tests check.

use poem::{IntoResponse, Response};
use poem_openapi::ApiResponse;
use poem_openapi::payload::{Json, Payload};
use poem_openapi::registry::{MetaResponses, MetaSchemaRef, Registry};
use poem_openapi::types::{ToJSON, Type};
use serde::Serialize;

use crate::problem::ApiError;

/// A 200 JSON body of type `T`, written by `T`'s `Serialize`.
#[derive(Debug)]
pub struct DirectJson<T>(pub T);

impl<T: Type> Payload for DirectJson<T> {
    const CONTENT_TYPE: &'static str = Json::<T>::CONTENT_TYPE;

    fn check_content_type(content_type: &str) -> bool {
        Json::<T>::check_content_type(content_type)
    }

    fn schema_ref() -> MetaSchemaRef {
        T::schema_ref()
    }

    fn register(registry: &mut Registry) {
        T::register(registry);
    }
}

impl<T: Type + Serialize + Send> IntoResponse for DirectJson<T> {
    fn into_response(self) -> Response {
        match serde_json::to_vec(&self.0) {
            Ok(body) => Response::builder().content_type(Self::CONTENT_TYPE).body(body),
            // Only a map with non-string keys or a failing `Serialize` impl can fail; the DTOs have neither.
            Err(error) => {
                tracing::error!(%error, "serialising a response failed");
                ApiError::internal().into_response()
            }
        }
    }
}

impl<T: ToJSON + Serialize + Send> ApiResponse for DirectJson<T> {
    fn meta() -> MetaResponses {
        Json::<T>::meta()
    }

    fn register(registry: &mut Registry) {
        T::register(registry);
    }
}
