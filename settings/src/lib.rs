//! How Libris reads its settings, in one place for every host: the local server, the Lambda and the test
//! kit read the environment through [`Env`], so everywhere a value is trimmed, a blank one counts as
//! unset, and a bad one is a [`ConfigError`] naming its variable. Secrets are held in types whose `Debug`
//! never shows them ([`SecretString`], [`SecretUrl`]); [`redact_url`] is the one way a URL is shown.
//!
//! This crate knows how to read, not what: which variables exist and what they mean stays with the
//! crate that reads them.

mod env;
mod secret;

pub use env::{ConfigError, Env};
pub use secrecy::{ExposeSecret, SecretString};
pub use secret::{SecretUrl, redact_url};
