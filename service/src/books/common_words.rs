//! Which words are common in the catalogue, read from PostgreSQL's own statistics, so that a search for one
//! rare word is read from the index at once instead of first probing for it.
//!
//! A page of a one-word search starts with a probe of the next 500 ids (`matches.rs`), and when that finds
//! nothing the words are rare and the page is read from the full-text index: two statements, the first of
//! them wasted. The planner's statistics already know which words are common: `ANALYZE` keeps the most
//! common lexemes of `books.search_vector` (up to ten times the statistics target, 1,000 by default, with
//! their frequencies), and a lexeme it does not list is rarer than a bound ([`Stats::unlisted_share`]). When
//! that bound is below one book in [`PROBE_WINDOW`], a probe of a word that starts no listed lexeme would
//! most likely find nothing, so such a word skips it.
//!
//! The judgement only chooses how to read a page, never what is on it: the index's read is correct for any
//! word, and a wrong guess (statistics older than the catalogue's last big import, say) costs a sort of the
//! word's matches instead of a probe. The statistics are read once per process and then every
//! [`REFRESH`], by one request that needs them; `ANALYZE` itself (autovacuum's) keeps them current.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use sea_orm::{ConnectionTrait, DbBackend, Statement};

use super::list::BookFilter;
use super::matches::PROBE_WINDOW;
use crate::Result;

/// How often a process reads the statistics again: autovacuum analyzes `books` after a tenth of it changes,
/// which takes a busy catalogue hours, not minutes.
const REFRESH: Duration = Duration::from_secs(300);
/// The shortest word judged rare: a shorter prefix may start many rare lexemes that together are common
/// ("42" starts a tenth of all numbers), which the statistics cannot tell.
const MIN_CHARS: usize = 4;

/// The statistics of one process, shared by its requests; cheap to clone.
#[derive(Clone, Debug, Default)]
pub struct CommonWords(Arc<Mutex<Known>>);

#[derive(Debug, Default)]
struct Known {
    snapshot: Option<Arc<Snapshot>>,
    /// When the statistics were last asked for (whether or not they came): one request refreshes them.
    asked: Option<Instant>,
}

/// What `pg_stats` says of `books.search_vector`.
#[derive(Clone, Debug)]
struct Stats {
    /// The most common lexemes.
    listed: Vec<String>,
    /// The share of books the least common of them is in.
    least_share: f64,
    /// How many lexemes the list may hold: ten times the column's statistics target.
    slots: usize,
    /// The average size of a value, in bytes.
    avg_width: f64,
}

impl Stats {
    /// At most the share of books a lexeme missing from the list is in. `ANALYZE` counts lexemes with Lossy
    /// Counting (PostgreSQL's `ts_typanalyze.c`): every lexeme that makes more than `0.07 / (slots + 10)` of
    /// all the lexemes it read is listed, unless the list is full, when the least listed one is the bound as
    /// well. A share of lexemes is a share of books times the lexemes a book has, which its statistics do
    /// not give; each takes at least five bytes of a `tsvector` (a four-byte entry and a character), so
    /// `avg_width / 5` bounds it.
    fn unlisted_share(&self) -> f64 {
        let slots = self.slots as f64;
        let below_support = 0.07 / (slots + 10.0) * (self.avg_width / 5.0).max(1.0);
        if self.listed.len() >= self.slots { below_support.max(self.least_share) } else { below_support }
    }
}

/// The statistics as a search judges by them.
#[derive(Debug)]
struct Snapshot {
    /// The listed lexemes, sorted, so those a prefix starts are found by one binary search.
    common: Vec<String>,
    /// See [`Stats::unlisted_share`].
    unlisted_share: f64,
}

impl Snapshot {
    fn new(stats: Stats) -> Self {
        let unlisted_share = stats.unlisted_share();
        let mut common = stats.listed;
        common.sort_unstable();
        Self { common, unlisted_share }
    }

    /// Whether a search whose only word is `prefix` is surely rare: long enough, starting no listed lexeme,
    /// and the unlisted ones each in fewer than one book in
    /// [`PROBE_WINDOW`], the ids a probe walks.
    fn rare(&self, prefix: &str) -> bool {
        let at = self.common.partition_point(|word| word.as_str() < prefix);
        let starts_a_common_word = self.common.get(at).is_some_and(|word| word.starts_with(prefix));
        let unlisted_are_rare = self.unlisted_share * (PROBE_WINDOW as f64) < 1.0;
        prefix.chars().count() >= MIN_CHARS && unlisted_are_rare && !starts_a_common_word
    }
}

impl CommonWords {
    /// Marks a one-word search in `filter` as rare when the statistics say so (reading them first when they
    /// are due); any other filter is left alone, and so is every filter when the statistics cannot be read.
    pub async fn judge<C: ConnectionTrait>(&self, db: &C, filter: &mut BookFilter) {
        let Some(q) = filter.q.as_mut() else { return };
        let [word] = q.terms() else { return };
        if db.get_database_backend() != DbBackend::Postgres {
            return;
        }
        if let Some(snapshot) = self.snapshot(db).await {
            q.rare = snapshot.rare(word);
        }
    }

    async fn snapshot<C: ConnectionTrait>(&self, db: &C) -> Option<Arc<Snapshot>> {
        {
            let mut known = self.0.lock().unwrap_or_else(PoisonError::into_inner);
            if known.asked.is_some_and(|asked| asked.elapsed() < REFRESH) {
                return known.snapshot.clone();
            }
            // Claimed before the read, so concurrent requests go on with what is known meanwhile.
            known.asked = Some(Instant::now());
        }
        let read = read(db).await;
        let mut known = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        match read {
            Ok(snapshot) => known.snapshot = snapshot.map(Arc::new),
            Err(error) => tracing::warn!(%error, "could not read the search statistics; keeping the last"),
        }
        known.snapshot.clone()
    }
}

/// The statistics of `books.search_vector` in the connection's schema; `None` before its first `ANALYZE`.
async fn read<C: ConnectionTrait>(db: &C) -> Result<Option<Snapshot>> {
    // `pg_stats` shows a column to a role that may read it, so the application's role needs no more grants.
    // The lexemes come as one text: they hold no spaces (`to_tsvector` splits on them). The column's own
    // statistics target is -1 (PostgreSQL 16 and older) or NULL when it follows the server's.
    let sql = "SELECT coalesce(array_to_string(s.most_common_elems::text::text[], ' '), ''), \
               coalesce((SELECT min(f) FROM unnest(s.most_common_elem_freqs) AS f), 1)::float8, \
               10 * coalesce(nullif(a.attstattarget::int4, -1), \
                             current_setting('default_statistics_target')::int4)::int8, \
               s.avg_width::float8 \
               FROM pg_stats AS s JOIN pg_attribute AS a \
               ON a.attrelid = 'books'::regclass AND a.attname = s.attname \
               WHERE s.schemaname = current_schema() AND s.tablename = 'books' \
               AND s.attname = 'search_vector'";
    let Some(row) = db.query_one_raw(Statement::from_string(DbBackend::Postgres, sql)).await? else {
        return Ok(None);
    };
    let words: String = row.try_get_by_index(0)?;
    let slots: i64 = row.try_get_by_index(2)?;
    Ok(Some(Snapshot::new(Stats {
        listed: words.split_whitespace().map(str::to_owned).collect(),
        least_share: row.try_get_by_index(1)?,
        slots: usize::try_from(slots).unwrap_or(0),
        avg_width: row.try_get_by_index(3)?,
    })))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The statistics of 100,000 books like the plan test's: 18 lexemes listed, of 1,000 slots.
    fn stats(words: &[&str]) -> Stats {
        let listed = words.iter().map(|w| (*w).to_owned()).collect();
        Stats { listed, least_share: 0.1188, slots: 1000, avg_width: 86.0 }
    }

    fn snapshot(words: &[&str]) -> Snapshot {
        Snapshot::new(stats(words))
    }

    #[test]
    fn a_word_that_starts_no_common_lexeme_is_rare() {
        let stats = snapshot(&["the", "orchard", "author", "crimson"]);
        assert!(stats.rare("4242"));
        assert!(stats.rare("orchards"), "longer than a common word is another word");
        assert!(stats.rare("zzzz"), "past the last listed word");
    }

    #[test]
    fn a_prefix_of_a_common_lexeme_is_not() {
        let stats = snapshot(&["the", "orchard", "author", "crimson"]);
        assert!(!stats.rare("orch"));
        assert!(!stats.rare("orchard"));
        assert!(!stats.rare("auth"));
        assert!(!stats.rare("crimson"));
    }

    #[test]
    fn a_short_prefix_is_never_judged_rare() {
        let stats = snapshot(&["orchard"]);
        assert!(!stats.rare("424"), "it may start many rare numbers");
        assert!(stats.rare("4242"));
    }

    #[test]
    fn a_list_with_free_slots_holds_every_lexeme_above_the_support() {
        // 0.07 / 1,010 of the lexemes, at most 86 / 5 of them a book: 0.12 % of the books, under 1 in 500.
        let share = stats(&["orchard"]).unlisted_share();
        assert!((0.0011..0.0012).contains(&share), "{share}");
        // Books of 300 bytes may have 60 lexemes: then a word missing from the list may be in 1 in 240.
        let long = Stats { avg_width: 300.0, ..stats(&["orchard"]) };
        assert!(!Snapshot::new(long).rare("4242"));
    }

    #[test]
    fn a_full_list_bounds_the_unlisted_by_its_least_lexeme_too() {
        let words: Vec<String> = (0..1000).map(|n| format!("w{n}")).collect();
        let full = Stats { listed: words, least_share: 0.004, slots: 1000, avg_width: 86.0 };
        assert!((full.unlisted_share() - 0.004).abs() < 1e-12);
        assert!(!Snapshot::new(full.clone()).rare("4242"), "1 book in 250 may hold it");
        assert!(Snapshot::new(Stats { least_share: 0.0005, ..full }).rare("4242"));
    }
}
