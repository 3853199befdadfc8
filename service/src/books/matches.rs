//! One page of a search (`q`): which books, in rank order, each read where it is cheap.
//!
//! Results rank in two tiers, every word in the title (tier 2) before the author-only matches (tier 1), each
//! in id order. There are two ways to read a tier in id order: walk the primary key until the page is full
//! (cheap for common words, a scan of the whole table for rare ones), or read the words' matches from the
//! full-text index and sort them (cheap for rare words, every match for common ones). No backend estimates
//! a word's (let alone a prefix's) matches well enough to choose, so a page finds out as it goes:
//! 1. A probe walks the next [`PROBE_WINDOW`] ids for matches of either tier, in id order, until it has a
//!    page of them. Common title words fill the page there: one statement.
//! 2. If it found no match of either tier, the words are rare: every remaining match of both tiers comes
//!    from the index, ordered by tier and id, in one statement.
//! 3. Otherwise the title tier goes on past the probe, walking up to [`SEARCH_WINDOW`] more ids when the
//!    probe's density says the page fills within them (else straight from the index), then from the index
//!    for what the walk did not find; then the author-only tier, whose first books are the probe's own
//!    author-only matches on a first page, and the rest the same way, by the probe's density of them
//!    (probing that tier alone first when no probe ran). On PostgreSQL the probe also asks the titles' words
//!    whether any title can hold every word ([`SearchQuery::titles_may_match`]); when none can (a search by
//!    an author's name), the title tier is not read past it, and such a page is often that one statement.
//!
//! On PostgreSQL a one-word search that the planner's statistics say is rare ([`super::CommonWords`]) skips
//! the probe: its page is read from the index at once, as step 2 reads it.
//!
//! On PostgreSQL a search of two words or more has a third way for its title tier, and takes it instead of
//! the probe: the rows of one whole word in the table of titles' words, in id order (`by_title_words`).

use entity::book;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{Condition, ConnectionTrait, DbBackend};

use super::list::{BookFilter, BookSummary, filters};
use super::rows::{self, Scan, Shape};
use super::search::{AUTHOR_TIER, SearchQuery, TITLE_TIER};
use crate::Result;

/// How many ids past the cursor the probe walks: a word in one title in eight matches about 60 of them, a
/// page and more; walking them costs about a tenth of a millisecond of PostgreSQL.
pub(super) const PROBE_WINDOW: i64 = 500;
/// How many ids past the probe a tier walks at most before asking the index.
const SEARCH_WINDOW: i64 = 4_000;

/// Up to `want` results after the cursor `after` (`(tier, id)`), in rank order, each with its tier.
pub(super) async fn page<C: ConnectionTrait>(
    db: &C,
    q: &SearchQuery,
    filter: &BookFilter,
    after: Option<(i64, i64)>,
    want: u64,
) -> Result<Vec<(i64, BookSummary)>> {
    let backend = db.get_database_backend();
    let title = q.title_condition(backend);
    let mut rows = Vec::new();
    // The probe's author-only matches, when there was one: the author tier's density, and its first books.
    let mut probed_authors = None;
    let in_titles = after.is_none_or(|(tier, _)| tier == TITLE_TIER);
    let driver = q.title_driver().filter(|_| backend == DbBackend::Postgres);
    if let (true, Some(word)) = (in_titles, driver) {
        let start = after.map_or(0, |(_, id)| id);
        let found = by_title_words(db, q, filter, word, start, want).await?;
        rows.extend(found.into_iter().map(|summary| (TITLE_TIER, summary)));
    } else if in_titles && q.judged_rare() {
        let any = filters(filter, None).add(q.condition(backend));
        return rare(db, any, title, after, filter.available, want).await;
    } else if in_titles {
        let start = after.map_or(0, |(_, id)| id);
        let probe_end = start.saturating_add(PROBE_WINDOW);
        let any = filters(filter, None).add(q.condition(backend));
        let probe =
            Shape::new(Scan::Window { after: start, end: probe_end }, filter.available).marked(title.clone());
        let probe = if backend == DbBackend::Postgres { probe.also(q.titles_may_match()) } else { probe };
        let probed = rows::fetch_ranked(db, any.clone(), want, probe).await?;
        let Some((_, last)) = probed.books.last() else {
            return rare(db, any, title, after, filter.available, want).await;
        };
        // A full probe stopped at its last book: every match up to there is in it.
        let seen = if count(&probed.books) == want { last.book.id } else { probe_end };
        let (titled, authored): (Vec<_>, Vec<_>) = probed.books.into_iter().partition(|(first, _)| *first);
        let found = count(&titled);
        rows.extend(titled.into_iter().map(|(_, summary)| (TITLE_TIER, summary)));
        let authored = authored.into_iter().map(|(_, summary)| summary).collect();
        // From the first id, as the author tier starts: then its matches up to `seen` are its first.
        let (walked, whole) = ((seen - start).unsigned_abs(), after.is_none());
        probed_authors = Some(Probed { authored, walked, seen, whole });
        // Unless no title holds every word: a search by an author's name.
        if found < want && probed.also != Some(false) {
            let walk = worth_walking(want - found, found, walked);
            let tested = filters(filter, None).add(title.clone());
            let indexed = filters(filter, None).add(q.title_index_condition(backend));
            let read = Tier { tested: &tested, indexed: &indexed, walk: Some(walk) };
            let more = tier(db, read, seen, want - found, filter.available).await?;
            rows.extend(more.into_iter().map(|summary| (TITLE_TIER, summary)));
        }
    }
    if count(&rows) < want {
        let mut start = after.filter(|(tier, _)| *tier == AUTHOR_TIER).map_or(0, |(_, id)| id);
        let condition = filters(filter, None).add(q.condition(backend)).add(title.not());
        // Walked unless the probe said the author-only matches lie too far apart; without one, probed, unless
        // the words are known to be rare.
        let mut walk = q.judged_rare().then_some(false);
        if let Some(probed) = probed_authors {
            let found = count(&probed.authored);
            if probed.whole {
                let missing = usize::try_from(want - count(&rows)).unwrap_or(usize::MAX);
                rows.extend(probed.authored.into_iter().take(missing).map(|summary| (AUTHOR_TIER, summary)));
                start = probed.seen;
            }
            walk = Some(worth_walking(want.saturating_sub(count(&rows)), found, probed.walked));
        }
        let fetched = count(&rows);
        if fetched < want {
            let read = Tier { tested: &condition, indexed: &condition, walk };
            let found = tier(db, read, start, want - fetched, filter.available).await?;
            rows.extend(found.into_iter().map(|summary| (AUTHOR_TIER, summary)));
        }
    }
    Ok(rows)
}

/// What a probe found of the author-only tier.
struct Probed {
    /// Its matches, in id order.
    authored: Vec<BookSummary>,
    /// How many ids the probe walked.
    walked: u64,
    /// The last id it walked: every match up to it is in the probe.
    seen: i64,
    /// Whether the probe began at the first id, so `authored` holds every author-only match up to `seen`.
    whole: bool,
}

/// Every remaining match of both tiers, up to `want`, read from the index in rank order: the page of rare
/// words, when the probe found no match of either tier or the statistics said so before it.
async fn rare<C: ConnectionTrait>(
    db: &C,
    any: Condition,
    title: Expr,
    after: Option<(i64, i64)>,
    available: Option<bool>,
    want: u64,
) -> Result<Vec<(i64, BookSummary)>> {
    let condition = match after {
        // Past a title match: the later title matches, and every author-only match.
        Some((_, id)) => any.add(Condition::any().add(title.clone().not()).add(unindexed_id().gt(id))),
        None => any,
    };
    let shape = Shape::new(Scan::Sort, available).ranked(title);
    Ok(tiered(rows::fetch_ranked(db, condition, want, shape).await?.books))
}

/// Ranked books with their tiers.
fn tiered(found: Vec<(bool, BookSummary)>) -> Vec<(i64, BookSummary)> {
    found
        .into_iter()
        .map(|(first, summary)| (if first { TITLE_TIER } else { AUTHOR_TIER }, summary))
        .collect()
}

/// The title tier of a search with a whole word (`word`, see [`SearchQuery::title_driver`]) on PostgreSQL:
/// the books whose titles hold `word`, read in id order from its rows of the titles' words
/// ([`Scan::Words`]), each row tested against every word on the lexemes it carries, and only the books that
/// pass looked up; cheap however common or rare the words are, where a walk of the books costs as many ids
/// as the page spans (~2,500 for two words each in one title in eight).
/// When that read neither fills the page nor reaches the end of `word`'s rows, the rest comes from the
/// index, after the last book it read.
async fn by_title_words<C: ConnectionTrait>(
    db: &C,
    q: &SearchQuery,
    filter: &BookFilter,
    word: &str,
    start: i64,
    want: u64,
) -> Result<Vec<BookSummary>> {
    let backend = db.get_database_backend();
    let tested = filters(filter, None).add(q.title_condition(backend));
    let rows_tested = q.title_words_condition(rows::words_lexemes());
    let scan = Scan::Words { word: word.to_owned(), after: start, rows_tested };
    let words = Shape::new(scan, filter.available);
    let mut rows = rows::fetch(db, tested.clone(), want, words).await?;
    let found = count(&rows);
    if found < want
        && let Some(end) = rows::words_end(db, word, start).await?
    {
        let indexed = filters(filter, None).add(q.title_index_condition(backend));
        let read = Tier { tested: &tested, indexed: &indexed, walk: Some(false) };
        rows.extend(tier(db, read, end, want - found, filter.available).await?);
    }
    Ok(rows)
}

/// How one tier is read: its condition as tested on each book walked past, the same as read from an index,
/// and whether to walk first (`None`: not known yet, so a probe of [`PROBE_WINDOW`] ids finds out).
struct Tier<'a> {
    tested: &'a Condition,
    indexed: &'a Condition,
    walk: Option<bool>,
}

/// Up to `limit` books of one tier after `after`, in id order: first by walking the next [`SEARCH_WINDOW`]
/// ids when `read.walk` says so, or when a probe of the next [`PROBE_WINDOW`] ids finds them dense enough,
/// then, for what is still missing, from the index, sorted.
async fn tier<C: ConnectionTrait>(
    db: &C,
    read: Tier<'_>,
    after: i64,
    limit: u64,
    available: Option<bool>,
) -> Result<Vec<BookSummary>> {
    let mut end = after;
    let mut rows = Vec::new();
    let walk = match read.walk {
        Some(walk) => walk,
        None => {
            end = after.saturating_add(PROBE_WINDOW);
            let probe = Shape::new(Scan::Window { after, end }, available);
            rows = rows::fetch(db, read.tested.clone(), limit, probe).await?;
            let found = count(&rows);
            found < limit && worth_walking(limit - found, found, PROBE_WINDOW.unsigned_abs())
        }
    };
    if walk {
        let from = end;
        end = from.saturating_add(SEARCH_WINDOW);
        let window = Shape::new(Scan::Window { after: from, end }, available);
        rows.extend(rows::fetch(db, read.tested.clone(), limit - count(&rows), window).await?);
    }
    let found = count(&rows);
    if found < limit {
        let rest = read.indexed.clone().add(unindexed_id().gt(end));
        rows.extend(rows::fetch(db, rest, limit - found, Shape::new(Scan::Sort, available)).await?);
    }
    Ok(rows)
}

/// Whether `missing` more matches probably lie within [`SEARCH_WINDOW`] ids, at the density of `found`
/// matches in `walked` ids (never, when none was found).
fn worth_walking(missing: u64, found: u64, walked: u64) -> bool {
    let reach = missing.saturating_mul(walked).checked_div(found);
    reach.is_some_and(|reach| reach <= SEARCH_WINDOW.unsigned_abs())
}

/// `books.id + 0`: a bound on it is applied to the index's matches, never read from the primary key (a
/// generic plan intersected the full-text matches with the key's range `id > $1`: 96,000 entries read for
/// 11 matches).
fn unindexed_id() -> Expr {
    Expr::col((book::Entity, book::Column::Id)).add(Expr::cust("0"))
}

fn count<T>(rows: &[T]) -> u64 {
    u64::try_from(rows.len()).unwrap_or(u64::MAX)
}
