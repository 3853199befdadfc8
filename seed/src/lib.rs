//! Data that is not the product: the demo library the local server loads into an empty database, and the
//! deterministic library of any size the benchmarks load.
//!
//! Kept out of `service` so the domain crate holds only the rules. Both go through the domain's own
//! types: the demo through the service functions themselves, the dataset through the domain's value
//! types (it writes in bulk, past the rules, for speed; see [`dataset`]). Nothing here is on a request
//! path, and the Lambda never links it.

pub mod dataset;
pub mod demo;
