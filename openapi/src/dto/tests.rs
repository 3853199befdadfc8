#![expect(clippy::unwrap_used, reason = "tests")]

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use poem_openapi::types::ToJSON;

use super::{Author, BookPage, BookSummary};

fn at(seconds: i64, nanos: u32) -> DateTime<Utc> {
    Utc.timestamp_opt(seconds, nanos).unwrap()
}

fn summary(id: i64, isbn: Option<&str>, published: Option<NaiveDate>, authors: Vec<Author>) -> BookSummary {
    BookSummary {
        id,
        title: format!("Book \"{id}\" — Brontë\n"),
        isbn: isbn.map(str::to_owned),
        published_date: published,
        authors,
        available: id % 2 == 0,
    }
}

/// `DirectJson` serialises with serde what poem-openapi's `Json` would have written through its own
/// `ToJSON`: the same keys, nulls, escapes, dates and times (sub-second ones included).
#[test]
fn a_book_page_serialises_with_serde_exactly_as_poem_openapi_writes_it() {
    let authors = vec![
        Author {
            id: 1,
            name: "Ursula K. Le Guin".to_owned(),
            created_at: at(0, 0),
            updated_at: at(1, 5_000),
        },
        Author {
            id: 2,
            name: "O'Brien".to_owned(),
            created_at: at(1_700_000_000, 123_456_789),
            updated_at: at(2, 0),
        },
    ];
    let items = vec![
        summary(1, None, None, Vec::new()),
        summary(2, Some("9780441172719"), NaiveDate::from_ymd_opt(1965, 8, 1), authors),
    ];
    for next_cursor in [None, Some("djE6Yjoy".to_owned())] {
        let page = BookPage { items: items.clone(), next_cursor };
        assert_eq!(serde_json::to_value(&page).unwrap(), page.to_json().unwrap());
    }
}
