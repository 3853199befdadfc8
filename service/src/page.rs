//! Keyset pagination: stable order by id, an opaque cursor, and no OFFSET scans.
//!
//! A cursor encodes the list it belongs to and the last id served (and, for a search ordered by relevance,
//! the last rank). Decoding checks all of it, so a tampered, truncated or foreign cursor (a search's cursor
//! on a plain list, say) is a validation error rather than a silently wrong page.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::ServiceError;
use crate::domain::PageLimit;

/// Which list a cursor belongs to. Part of the cursor, so one list's cursor is refused by another.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ListKind {
    Books,
    AvailableBooks,
    AuthorBooks,
    Authors,
    Borrowers,
    Loans,
    LoanHistory,
    Reviews,
}

impl ListKind {
    const fn tag(self) -> &'static str {
        match self {
            Self::Books => "b",
            Self::AvailableBooks => "ab",
            Self::AuthorBooks => "awb",
            Self::Authors => "a",
            Self::Borrowers => "p",
            Self::Loans => "l",
            Self::LoanHistory => "h",
            Self::Reviews => "r",
        }
    }
}

/// What a caller asks for: where to continue (if anywhere) and how many.
#[derive(Clone, Debug, Default)]
pub struct PageRequest {
    pub cursor: Option<String>,
    pub limit: PageLimit,
}

impl PageRequest {
    /// # Errors
    /// `Validation` on `limit` outside 1..=100.
    pub fn new(cursor: Option<String>, limit: Option<i64>) -> Result<Self, ServiceError> {
        Ok(Self { cursor, limit: PageLimit::parse(limit)? })
    }

    /// The last id of the previous page, if this request continues a list.
    pub(crate) fn after(&self, kind: ListKind) -> Result<Option<i64>, ServiceError> {
        self.cursor.as_deref().filter(|c| !c.is_empty()).map(|c| decode(kind, c)).transpose()
    }

    /// The last `(rank, id)` of the previous page of a list ordered by rank, then id.
    pub(crate) fn after_ranked(&self, kind: ListKind) -> Result<Option<(i64, i64)>, ServiceError> {
        self.cursor.as_deref().filter(|c| !c.is_empty()).map(|c| decode_ranked(kind, c)).transpose()
    }

    /// One more than the page size, to learn whether another page follows without counting.
    pub(crate) fn fetch_limit(&self) -> u64 {
        self.limit.get() + 1
    }
}

/// One page of a list.
#[derive(Clone, Debug, PartialEq)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Present when more items follow; pass it back to get them.
    pub next_cursor: Option<String>,
}

impl<T> Page<T> {
    /// Cuts the over-fetched rows down to the page and builds the cursor from the last id served.
    pub(crate) fn from_rows(
        kind: ListKind,
        request: &PageRequest,
        mut rows: Vec<T>,
        id: impl Fn(&T) -> i64,
    ) -> Self {
        let limit = usize::try_from(request.limit.get()).unwrap_or(usize::MAX);
        let more = rows.len() > limit;
        rows.truncate(limit);
        let next_cursor = if more { rows.last().map(|last| encode(kind, id(last))) } else { None };
        Self { items: rows, next_cursor }
    }

    /// As [`Page::from_rows`], for a list ordered by `(rank DESC, id)`: the cursor carries both.
    pub(crate) fn from_ranked_rows(
        kind: ListKind,
        request: &PageRequest,
        mut rows: Vec<T>,
        key: impl Fn(&T) -> (i64, i64),
    ) -> Self {
        let limit = usize::try_from(request.limit.get()).unwrap_or(usize::MAX);
        let more = rows.len() > limit;
        rows.truncate(limit);
        let next_cursor = if more {
            rows.last().map(|last| {
                let (rank, id) = key(last);
                URL_SAFE_NO_PAD.encode(format!("v1:{}:{rank}:{id}", kind.tag()))
            })
        } else {
            None
        };
        Self { items: rows, next_cursor }
    }

    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page { items: self.items.into_iter().map(f).collect(), next_cursor: self.next_cursor }
    }
}

fn encode(kind: ListKind, last_id: i64) -> String {
    URL_SAFE_NO_PAD.encode(format!("v1:{}:{last_id}", kind.tag()))
}

fn decode(kind: ListKind, cursor: &str) -> Result<i64, ServiceError> {
    let invalid =
        || ServiceError::invalid("cursor", "is not a cursor from this list; start again without it");
    let bytes = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| invalid())?;
    let text = String::from_utf8(bytes).map_err(|_| invalid())?;
    let mut parts = text.splitn(3, ':');
    match (parts.next(), parts.next(), parts.next()) {
        (Some("v1"), Some(tag), Some(id)) if tag == kind.tag() => {
            id.parse::<i64>().ok().filter(|id| *id >= 0).ok_or_else(invalid)
        }
        _ => Err(invalid()),
    }
}

fn decode_ranked(kind: ListKind, cursor: &str) -> Result<(i64, i64), ServiceError> {
    let invalid =
        || ServiceError::invalid("cursor", "is not a cursor from this search; start again without it");
    let bytes = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| invalid())?;
    let text = String::from_utf8(bytes).map_err(|_| invalid())?;
    let parts: Vec<&str> = text.split(':').collect();
    match parts.as_slice() {
        ["v1", tag, rank, id] if *tag == kind.tag() => {
            let rank = rank.parse::<i64>().ok().filter(|rank| *rank >= 0).ok_or_else(invalid)?;
            let id = id.parse::<i64>().ok().filter(|id| *id >= 0).ok_or_else(invalid)?;
            Ok((rank, id))
        }
        _ => Err(invalid()),
    }
}

#[cfg(test)]
mod tests {
    #![expect(clippy::unwrap_used, reason = "tests")]
    use super::*;

    #[test]
    fn a_cursor_round_trips_within_its_list() {
        let cursor = encode(ListKind::Books, 42);
        assert_eq!(decode(ListKind::Books, &cursor).unwrap(), 42);
    }

    #[test]
    fn a_cursor_from_another_list_is_refused() {
        let cursor = encode(ListKind::Borrowers, 42);
        assert!(matches!(
            decode(ListKind::Books, &cursor),
            Err(ServiceError::Validation { field: "cursor", .. })
        ));
    }

    #[test]
    fn tampered_and_truncated_cursors_are_refused() {
        let cursor = encode(ListKind::Books, 123_456);
        for bad in [&cursor[..cursor.len() - 2], "not-base64!", "djE6Yjp4", "", "djE6Yjo", "djE6YjotNQ"] {
            if bad.is_empty() {
                continue;
            }
            assert!(decode(ListKind::Books, bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn a_ranked_cursor_carries_rank_and_id_and_is_no_plain_cursor() {
        let request = PageRequest::new(None, Some(1)).unwrap();
        let page = Page::from_ranked_rows(ListKind::Books, &request, vec![(2, 7), (1, 3)], |key| *key);
        let next = PageRequest::new(page.next_cursor, Some(1)).unwrap();
        assert_eq!(next.after_ranked(ListKind::Books).unwrap(), Some((2, 7)));
        assert!(next.after(ListKind::Books).is_err(), "a search's cursor on the plain list");
        assert!(next.after_ranked(ListKind::AvailableBooks).is_err(), "another list's");
        let plain = PageRequest::new(Some(encode(ListKind::Books, 7)), Some(1)).unwrap();
        assert!(plain.after_ranked(ListKind::Books).is_err(), "a plain cursor on a search");
    }

    #[test]
    fn pages_over_fetch_by_one_to_find_the_next_cursor() {
        let request = PageRequest::new(None, Some(2)).unwrap();
        let page = Page::from_rows(ListKind::Books, &request, vec![1_i64, 2, 3], |id| *id);
        assert_eq!(page.items, vec![1, 2]);
        let next = PageRequest::new(page.next_cursor, Some(2)).unwrap();
        assert_eq!(next.after(ListKind::Books).unwrap(), Some(2));
        let last = Page::from_rows(ListKind::Books, &request, vec![1_i64, 2], |id| *id);
        assert_eq!(last.next_cursor, None);
    }
}
