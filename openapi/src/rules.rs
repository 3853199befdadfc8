//! The rules the server enforces, written into the spec so that a generated client knows them before it
//! meets them as a 422: page sizes, ratings, loan periods, text lengths and characters, and that request
//! bodies take no fields beyond their own.
//!
//! The checks themselves stay in the domain (`service::domain`), which answers a 422 naming the field;
//! poem-openapi's own validators would answer a bare 400 instead, and would be a second copy of each rule.
//! So the spec is amended after poem-openapi renders it, from the domain's own constants, and the tests in
//! `tests/api/rules.rs` hold each declared bound against what the server accepts and refuses.

use serde_json::{Map, Value, json};
use service::LoanLimits;
use service::books::SearchQuery;
use service::domain::{AuthSubject, Comment, Email, PageLimit, PersonName, Title};

/// What `str::trim` strips (Unicode `White_Space`), spelled out: a regex's `\s` differs between the
/// engines clients use (Python's includes U+001C–U+001F, ECMAScript's U+FEFF).
const SPACE: &str = r"\t\n\x0B\f\r \x85\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000";
/// A page cursor's alphabet: base64url without padding, as `service::page` writes it.
const CURSOR: &str = "^[A-Za-z0-9_-]*$";
/// `char::is_control` (Unicode `Cc`).
const CONTROL: &str = r"\x00-\x1F\x7F-\x9F";
/// The comment's control characters: all but line breaks and tabs.
const COMMENT_CONTROL: &str = r"\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F";
/// `service::domain::is_hidden_formatting`: bidirectional overrides and isolates, zero-width characters.
const HIDDEN: &str = r"\u200B-\u200F\u202A-\u202E\u2060\u2066-\u2069\uFEFF";

/// A title or name: after trimming, 1 to `max` characters, none of them a control character or hidden
/// formatting. Spaces around it are allowed (the server trims them), so the bound is in the pattern.
fn plain_text(max: usize) -> String {
    let inner = max.saturating_sub(2);
    format!(
        "^[{SPACE}]*[^{SPACE}{CONTROL}{HIDDEN}](?:[^{CONTROL}{HIDDEN}]{{0,{inner}}}[^{SPACE}{CONTROL}{HIDDEN}])?[{SPACE}]*$"
    )
}

/// A login subject: a plain text with no spaces inside either.
fn subject() -> String {
    let max = AuthSubject::MAX_CHARS;
    format!("^[{SPACE}]*[^{SPACE}{CONTROL}{HIDDEN}]{{1,{max}}}[{SPACE}]*$")
}

/// A comment: blank (no comment) or, trimmed, at most 4,000 characters with no control characters but
/// line breaks and tabs.
fn comment() -> String {
    let inner = Comment::MAX_CHARS.saturating_sub(2);
    format!(
        "^[{SPACE}]*(?:[^{SPACE}{COMMENT_CONTROL}](?:[^{COMMENT_CONTROL}]{{0,{inner}}}[^{SPACE}{COMMENT_CONTROL}])?)?[{SPACE}]*$"
    )
}

/// A list's search filter (`SearchTerm`): blank is none; otherwise, trimmed, at most `max` characters and
/// no control characters.
fn search_term(max: usize) -> String {
    let inner = max.saturating_sub(2);
    format!("^[{SPACE}]*(?:[^{SPACE}{CONTROL}](?:[^{CONTROL}]{{0,{inner}}}[^{SPACE}{CONTROL}])?)?[{SPACE}]*$")
}

/// An e-mail address (`service::domain::Email`): a local part of 1 to 64 characters without spaces,
/// control characters or `@`, then a domain of two or more DNS labels (letters, digits, inner hyphens).
/// The whole value's 254 characters are `maxLength`.
fn email() -> String {
    let local = Email::MAX_LOCAL_CHARS;
    let label = "[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?";
    format!("^[{SPACE}]*[^@{SPACE}{CONTROL}]{{1,{local}}}@{label}(?:\\.{label})+[{SPACE}]*$")
}

/// An ISBN's shape (`service::domain::Isbn`): ten characters (nine digits, then a digit or `X`) or
/// thirteen digits, with hyphens and spaces anywhere between them. The check digit is the one rule no
/// pattern can state; the description says it.
fn isbn() -> String {
    format!("^[{SPACE}]*[- ]*(?:(?:[0-9][- ]*){{9}}[0-9Xx]|(?:[0-9][- ]*){{12}}[0-9])[- ]*[{SPACE}]*$")
}

/// The request bodies that refuse unknown fields (`#[oai(deny_unknown_fields)]` on each in `dto::requests`).
pub const CLOSED_BODIES: &[&str] = &[
    "NewBook",
    "BookPatch",
    "BookAuthors",
    "NewBookAuthor",
    "NewAuthor",
    "AuthorPatch",
    "NewBorrower",
    "BorrowerPatch",
    "NewLoan",
    "NewReview",
    "ReviewPatch",
];

/// The keywords each constrained body field gets: (schema, property, keywords).
fn field_rules(limits: LoanLimits) -> Vec<(&'static str, &'static str, Value)> {
    let title = json!({
        "minLength": 1,
        "pattern": plain_text(Title::MAX_CHARS),
        "x-rule": format!("1 to {} characters after trimming; no control characters, bidirectional overrides or zero-width characters", Title::MAX_CHARS),
    });
    let name = json!({
        "minLength": 1,
        "pattern": plain_text(PersonName::MAX_CHARS),
        "x-rule": format!("1 to {} characters after trimming; no control characters, bidirectional overrides or zero-width characters", PersonName::MAX_CHARS),
    });
    let email = json!({
        "maxLength": Email::MAX_CHARS,
        "pattern": email(),
        "x-rule": format!("at most {} characters; trimmed and lower-cased: a local part of 1 to {} characters, '@', a domain of two or more labels of ASCII letters, digits and inner hyphens (an internationalised domain in its xn-- form); no spaces or control characters", Email::MAX_CHARS, Email::MAX_LOCAL_CHARS),
    });
    let isbn = json!({
        "pattern": isbn(),
        "x-rule": "its check digit must match (ISBN-10: the weighted sum modulo 11, where X is 10; ISBN-13: modulo 10)",
    });
    let subject = json!({
        "minLength": 1,
        "pattern": subject(),
        "x-rule": format!("1 to {} characters after trimming; no spaces, control characters, bidirectional overrides or zero-width characters", AuthSubject::MAX_CHARS),
    });
    let comment = json!({
        "pattern": comment(),
        "x-rule": format!("blank is no comment; otherwise at most {} characters after trimming, no control characters but line breaks and tabs", Comment::MAX_CHARS),
    });
    let rating = json!({ "minimum": 1, "maximum": 5 });
    let period = json!({
        "minimum": 1,
        "maximum": limits.max_period_days,
        "default": limits.default_period_days,
        "x-rule": format!("the library's longest period ({} days here); absent: its default ({} days)", limits.max_period_days, limits.default_period_days),
    });
    vec![
        ("NewBook", "title", title.clone()),
        ("NewBook", "isbn", isbn.clone()),
        ("BookPatch", "isbn", isbn),
        ("BookPatch", "title", title),
        ("NewAuthor", "name", name.clone()),
        ("AuthorPatch", "name", name.clone()),
        ("NewBorrower", "name", name.clone()),
        ("BorrowerPatch", "name", name),
        ("NewBorrower", "email", email.clone()),
        ("BorrowerPatch", "email", email),
        ("NewBorrower", "subject", subject.clone()),
        ("BorrowerPatch", "subject", subject),
        ("NewReview", "comment", comment.clone()),
        ("ReviewPatch", "comment", comment),
        ("NewReview", "rating", rating.clone()),
        ("ReviewPatch", "rating", rating),
        ("NewLoan", "period_days", period),
    ]
}

/// Amends a rendered spec with the rules, for a server whose loan policy has `limits`.
///
/// `x-rule` keeps, in words, what a keyword cannot say; it is moved into the property's description
/// so generators show it.
pub fn declare(spec: &mut Value, limits: LoanLimits) {
    let schemas = spec.pointer_mut("/components/schemas").and_then(Value::as_object_mut);
    if let Some(schemas) = schemas {
        for name in CLOSED_BODIES {
            if let Some(schema) = schemas.get_mut(*name).and_then(Value::as_object_mut) {
                schema.insert("additionalProperties".to_owned(), Value::Bool(false));
            }
        }
        for (schema, property, keywords) in field_rules(limits) {
            let target = schemas
                .get_mut(schema)
                .and_then(|s| s.pointer_mut(&format!("/properties/{property}")))
                .and_then(Value::as_object_mut);
            if let (Some(target), Value::Object(keywords)) = (target, keywords) {
                merge(target, keywords);
            }
        }
    }
    let Some(paths) = spec.get_mut("paths").and_then(Value::as_object_mut) else { return };
    for operation in paths.values_mut().filter_map(Value::as_object_mut).flat_map(|ops| ops.values_mut()) {
        let parameters = operation.get_mut("parameters").and_then(Value::as_array_mut);
        for parameter in parameters.into_iter().flatten() {
            let filter = match parameter["name"].as_str() {
                Some("name") => Some(search_term(PersonName::MAX_CHARS)),
                Some("email") => Some(search_term(Email::MAX_CHARS)),
                Some("q") => Some(search_term(SearchQuery::MAX_CHARS)),
                // Opaque, but always base64url without padding (`service::page`); blank is the first page.
                Some("cursor") => Some(CURSOR.to_owned()),
                _ => None,
            };
            let schema = parameter.get_mut("schema").and_then(Value::as_object_mut);
            if let (Some(schema), Some(pattern)) = (schema, filter) {
                schema.insert("pattern".to_owned(), Value::String(pattern));
            }
            let is_limit = parameter["in"] == "query" && parameter["name"] == "limit";
            let schema = parameter.get_mut("schema").and_then(Value::as_object_mut).filter(|_| is_limit);
            if let Some(schema) = schema {
                schema.insert("minimum".to_owned(), json!(1));
                schema.insert("maximum".to_owned(), json!(PageLimit::MAX));
                schema.insert("default".to_owned(), json!(PageLimit::DEFAULT));
            }
        }
    }
}

/// Adds `keywords` to a property; an `x-rule` becomes (part of) its description.
fn merge(target: &mut Map<String, Value>, keywords: Map<String, Value>) {
    for (key, value) in keywords {
        if key == "x-rule" {
            let rule = value.as_str().unwrap_or_default();
            let description = match target.get("description").and_then(Value::as_str) {
                Some(existing) => format!("{existing} {}.", capitalise(rule)),
                None => format!("{}.", capitalise(rule)),
            };
            target.insert("description".to_owned(), Value::String(description));
        } else {
            target.insert(key, value);
        }
    }
}

fn capitalise(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map(|first| first.to_uppercase().chain(chars).collect()).unwrap_or_default()
}
