//! `q`: catalogue search over title words and author names, on each backend's own full-text index.
//!
//! One behaviour everywhere, defined by [`SearchQuery::matches`]: the query's words are normalised like the
//! stored keys (`entity::search_key`), every word must be a word of the title or of an author's name, and the
//! last one may also be the start of one (type-ahead: "dun" finds "Dune"). Results rank in two tiers: every
//! word found in the title (tier 2) before those that needed the authors (tier 1), then by id, so the order
//! is stable and a keyset cursor can carry `(tier, id)`.

use entity::{book, search_key};
use sea_orm::DbBackend;
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Func, Query};

use super::rows::TITLE_WORDS;
use crate::ServiceError;

/// A parsed `q`: between one and [`SearchQuery::MAX_TERMS`] normalised words.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SearchQuery {
    terms: Vec<String>,
    /// Known to be rare ([`CommonWords`](super::CommonWords)): its page is read from the index at once.
    pub(super) rare: bool,
}

/// Tier of a book whose title holds every word of the query.
pub(crate) const TITLE_TIER: i64 = 2;
/// Tier of a book that matched only with its authors' names.
pub(crate) const AUTHOR_TIER: i64 = 1;

/// Where the words must be found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Scope {
    Title,
    TitleAndAuthors,
}

/// InnoDB's default full-text stop words (`INFORMATION_SCHEMA.INNODB_FT_DEFAULT_STOPWORD`), which its
/// FULLTEXT index does not hold; MariaDB matches them, like words shorter than its minimum token size, with
/// `LIKE` so that "the" finds what it finds on the other backends.
const INNODB_STOP_WORDS: [&str; 35] = [
    "a", "about", "an", "are", "as", "at", "be", "by", "com", "de", "en", "for", "from", "how", "i", "in",
    "is", "it", "la", "of", "on", "or", "that", "the", "this", "to", "was", "what", "when", "where", "who",
    "will", "with", "und", "www",
];
/// InnoDB's default `innodb_ft_min_token_size`: shorter words are not in its FULLTEXT index.
const INNODB_MIN_TOKEN_CHARS: usize = 3;

impl SearchQuery {
    /// The longest `q` accepted, in characters.
    pub const MAX_CHARS: usize = 200;
    /// The most words `q` may hold: each is one more index probe.
    pub const MAX_TERMS: usize = 8;
    /// The longest word, in characters.
    pub const MAX_TERM_CHARS: usize = 64;

    /// `None` for a blank `q` (no search); each bound is a `Validation` error on `q` naming it.
    ///
    /// # Errors
    /// `Validation` on `q`: too long, too many words, a word too long, control characters, or no letter or
    /// digit at all.
    pub fn parse(raw: &str) -> Result<Option<Self>, ServiceError> {
        let raw = raw.trim();
        if raw.is_empty() {
            return Ok(None);
        }
        let invalid = |message: String| ServiceError::invalid("q", message);
        if raw.chars().count() > Self::MAX_CHARS {
            return Err(invalid(format!("must be at most {} characters", Self::MAX_CHARS)));
        }
        if raw.chars().any(char::is_control) {
            return Err(invalid("must not contain control characters".to_owned()));
        }
        let terms = search_key::words(raw);
        if terms.is_empty() {
            return Err(invalid("must contain a letter or a digit".to_owned()));
        }
        if terms.len() > Self::MAX_TERMS {
            return Err(invalid(format!("must have at most {} words", Self::MAX_TERMS)));
        }
        if terms.iter().any(|term| term.chars().count() > Self::MAX_TERM_CHARS) {
            return Err(invalid(format!("words must be at most {} characters", Self::MAX_TERM_CHARS)));
        }
        Ok(Some(Self { terms, rare: false }))
    }

    /// The normalised words, in the order given.
    #[must_use]
    pub fn terms(&self) -> &[String] {
        &self.terms
    }

    /// Whether the search was judged rare by [`CommonWords`](super::CommonWords), so that its page skips
    /// the probe and is read from the index.
    #[must_use]
    pub fn judged_rare(&self) -> bool {
        self.rare
    }

    /// The word a title's words are read by ([`Scan::Words`](super::rows::Scan)): the longest whole word
    /// (not the last, which may be a prefix), as the longer of two words is usually the rarer; `None` for
    /// a single word.
    pub(crate) fn title_driver(&self) -> Option<&str> {
        let (_, whole) = self.terms.split_last()?;
        whole.iter().rev().max_by_key(|term| term.chars().count()).map(String::as_str)
    }

    /// Whether a book with these keys is a result: the reference definition every backend implements.
    #[must_use]
    pub fn matches(&self, title_key: &str, author_key: &str) -> bool {
        let words: Vec<&str> = title_key.split(' ').chain(author_key.split(' ')).collect();
        self.found_in(&words)
    }

    fn found_in(&self, words: &[&str]) -> bool {
        let Some((last, whole)) = self.terms.split_last() else { return false };
        whole.iter().all(|term| words.contains(&term.as_str()))
            && words.iter().any(|word| !word.is_empty() && word.starts_with(last.as_str()))
    }

    /// PostgreSQL: whether some title may hold every word, asked of the titles' words (`book_title_words`,
    /// the same words as the titles' full-text index): every whole word is one of its rows, and some row
    /// starts with the last word. Each is one step down its key. `false` says no title holds them all, so
    /// the page needs no read of the title tier past a probe: what a search by an author's name meets.
    pub(crate) fn titles_may_match(&self) -> Expr {
        let word = || Expr::col(Alias::new("word"));
        let Some((last, whole)) = self.terms.split_last() else { return Expr::val(false) };
        let mut found: Vec<Expr> = whole.iter().map(|term| word().eq(term.as_str())).collect();
        let mut starts = word().gte(last.as_str());
        if let Some(beyond) = past_prefix(last) {
            starts = starts.and(word().lt(beyond));
        }
        found.push(starts);
        let exists = |condition: Expr| {
            let row = Query::select()
                .expr(Expr::val(1))
                .from(Alias::new(TITLE_WORDS))
                .and_where(condition)
                .to_owned();
            Expr::exists(row)
        };
        found.into_iter().map(exists).reduce(ExprTrait::and).unwrap_or_else(|| Expr::val(false))
    }

    /// The condition "is a result", for `backend`.
    pub(crate) fn condition(&self, backend: DbBackend) -> Expr {
        self.matched(backend, Scope::TitleAndAuthors)
    }

    /// The condition "every word is in the title", for `backend`: the results of the first tier.
    pub(crate) fn title_condition(&self, backend: DbBackend) -> Expr {
        self.matched(backend, Scope::Title)
    }

    /// The same condition as [`Self::title_condition`], written for reading the matches from an index rather
    /// than testing books one by one: on PostgreSQL, against the titles' own full-text index
    /// (`idx_books_title_search`), because the weighted `search_vector`'s index cannot tell title words from
    /// authors' and returns every book whose authors hold the word, for the heap to recheck.
    pub(crate) fn title_index_condition(&self, backend: DbBackend) -> Expr {
        if backend != DbBackend::Postgres {
            return self.title_condition(backend);
        }
        let sql =
            r#"to_tsvector('simple'::regconfig, "books"."title_key") @@ (SELECT to_tsquery('simple', $1))"#;
        Expr::cust_with_values(sql, [self.tsquery("")])
    }

    /// PostgreSQL: the condition [`Self::title_condition`] on a row of the titles' words, given its
    /// `lexemes` (its title's, without weights: `NULL` when too long to keep, and such a row passes, so that
    /// its book is tested instead). Tested as the rows are read, so only the books that pass are looked up.
    pub(crate) fn title_words_condition(&self, lexemes: Expr) -> Expr {
        let query = Expr::val(self.tsquery(""));
        let matched =
            Expr::cust_with_exprs("$1 @@ (SELECT to_tsquery('simple', $2))", [lexemes.clone(), query]);
        lexemes.is_null().or(matched)
    }

    fn matched(&self, backend: DbBackend, scope: Scope) -> Expr {
        match backend {
            DbBackend::Postgres => self.postgres(scope),
            DbBackend::Sqlite => self.sqlite(scope),
            _ => self.mysql(scope),
        }
    }

    /// `books.search_vector @@ to_tsquery('simple', 'w1' & 'w2' & 'last':*)`, each word restricted to weight
    /// A (the title) for [`Scope::Title`]. The GIN index answers it.
    fn postgres(&self, scope: Scope) -> Expr {
        let query = self.tsquery(if scope == Scope::Title { "A" } else { "" });
        // Bound, and turned into a `tsquery` by an uncorrelated subquery: PostgreSQL evaluates that once per
        // run (an InitPlan), where `to_tsquery('simple', $1)` in a generic plan is parsed again for every row
        // it filters (26 ms instead of 0.6 ms for a page walking 2,200 books). Bound, the statement's text is
        // the same for every search of its shape, so the driver's prepared statement and PostgreSQL's generic
        // plan are reused instead of planning each search afresh (about 0.2 to 0.5 ms a statement).
        Expr::cust_with_values(r#""books"."search_vector" @@ (SELECT to_tsquery('simple', $1))"#, [query])
    }

    /// The words as a `tsquery`, `'w1' & 'w2' & 'last':*`, each restricted to `weight` (none when empty).
    fn tsquery(&self, weight: &str) -> String {
        let last = self.terms.len() - 1;
        self.terms
            .iter()
            .enumerate()
            .map(|(n, term)| {
                let prefix = if n == last { "*" } else { "" };
                let marks = if prefix.is_empty() && weight.is_empty() {
                    String::new()
                } else {
                    format!(":{prefix}{weight}")
                };
                format!("'{}'{marks}", term.replace('\'', "''"))
            })
            .collect::<Vec<_>>()
            .join(" & ")
    }

    /// `books.id IN (SELECT rowid FROM books_fts WHERE books_fts MATCH '"w1" "w2" "last"*')`, each phrase
    /// limited to the `title_key` column for [`Scope::Title`].
    fn sqlite(&self, scope: Scope) -> Expr {
        let column = if scope == Scope::Title { "title_key : " } else { "" };
        let last = self.terms.len() - 1;
        let query = self
            .terms
            .iter()
            .enumerate()
            .map(|(n, term)| format!("{column}\"{term}\"{}", if n == last { "*" } else { "" }))
            .collect::<Vec<_>>()
            .join(" AND ");
        let fts = Alias::new("books_fts");
        let matching = Query::select()
            .expr(Expr::cust("rowid"))
            .from(fts)
            .and_where(Expr::cust_with_values("books_fts MATCH ?", [query]))
            .to_owned();
        Expr::col((book::Entity, book::Column::Id)).in_subquery(matching)
    }

    /// `MATCH(title_key, author_key) AGAINST('+w1 +w2 +last*' IN BOOLEAN MODE)` for the words InnoDB
    /// indexes, and `' title_key author_key ' LIKE '% w %'` (`'% w%'` for the last) for the others.
    fn mysql(&self, scope: Scope) -> Expr {
        let last = self.terms.len() - 1;
        let (mut indexed, mut conditions) = (Vec::new(), Vec::new());
        let mut padded: Vec<Expr> = vec![Expr::val(" "), Expr::col((book::Entity, book::Column::TitleKey))];
        if scope == Scope::TitleAndAuthors {
            padded.push(Expr::val(" "));
            padded.push(Expr::col((book::Entity, book::Column::AuthorKey)));
        }
        padded.push(Expr::val(" "));
        for (n, term) in self.terms.iter().enumerate() {
            let prefix = n == last;
            if term.chars().count() >= INNODB_MIN_TOKEN_CHARS && !INNODB_STOP_WORDS.contains(&term.as_str()) {
                indexed.push(format!("+{term}{}", if prefix { "*" } else { "" }));
            } else {
                let pattern = format!("% {term}{}", if prefix { "%" } else { " %" });
                let text: Expr = Func::cust(Alias::new("CONCAT")).args(padded.clone()).into();
                conditions.push(text.like(pattern));
            }
        }
        if !indexed.is_empty() {
            let columns = if scope == Scope::Title {
                "`books`.`title_key`"
            } else {
                "`books`.`title_key`, `books`.`author_key`"
            };
            let sql = format!("MATCH({columns}) AGAINST(? IN BOOLEAN MODE)");
            conditions.insert(0, Expr::cust_with_values(sql, [indexed.join(" ")]));
        }
        conditions.into_iter().reduce(|all, one| all.and(one)).unwrap_or_else(|| Expr::val(false))
    }
}

/// The first text past every word that starts with `prefix`, in the titles' words' byte order (`COLLATE
/// "C"`, which is code point order): `prefix` with its last character replaced by the next one (dropped
/// when it is the last there is); `None` when nothing is past them all.
fn past_prefix(prefix: &str) -> Option<String> {
    let mut chars: Vec<char> = prefix.chars().collect();
    while let Some(last) = chars.pop() {
        if let Some(next) = (last..=char::MAX).nth(1) {
            chars.push(next);
            return Some(chars.into_iter().collect());
        }
    }
    None
}

#[cfg(test)]
mod tests {
    #![expect(clippy::unwrap_used, reason = "tests")]
    use super::*;

    fn query(raw: &str) -> SearchQuery {
        SearchQuery::parse(raw).unwrap().unwrap()
    }

    fn refused(raw: &str) -> String {
        match SearchQuery::parse(raw) {
            Err(ServiceError::Validation { field: "q", message }) => message,
            other => panic!("expected a validation error on q, got {other:?}"),
        }
    }

    #[test]
    fn words_are_normalised_like_the_stored_keys() {
        assert_eq!(query("  Brontë, LE guin ").terms(), ["bronte", "le", "guin"]);
        assert_eq!(SearchQuery::parse("   ").unwrap(), None);
    }

    #[test]
    fn every_limit_is_named_in_its_refusal() {
        assert!(refused(&"a".repeat(201)).contains("200 characters"));
        assert!(refused("a b c d e f g h i").contains("8 words"));
        assert!(refused(&"x".repeat(65)).contains("64 characters"));
        assert!(refused("--- !!!").contains("letter or a digit"));
        assert!(refused("dune\u{0}").contains("control"));
        assert_eq!(query(&"x".repeat(64)).terms().len(), 1);
        assert_eq!(query("a b c d e f g h").terms().len(), 8);
    }

    #[test]
    fn titles_are_read_by_the_longest_whole_word() {
        assert_eq!(query("dune").title_driver(), None, "a single word may be a prefix");
        assert_eq!(query("crimson garden").title_driver(), Some("crimson"));
        assert_eq!(query("le guin ursula").title_driver(), Some("guin"));
        assert_eq!(query("abc xyz q").title_driver(), Some("abc"), "the first of equals");
    }

    #[test]
    fn the_words_past_a_prefix_begin_at_its_last_character_plus_one() {
        assert_eq!(past_prefix("gard").as_deref(), Some("gare"));
        assert_eq!(past_prefix("az").as_deref(), Some("a{"));
        assert_eq!(past_prefix("a\u{d7ff}").as_deref(), Some("a\u{e000}"), "past the surrogates");
        assert_eq!(past_prefix("a\u{10ffff}").as_deref(), Some("b"));
        assert_eq!(past_prefix("\u{10ffff}"), None);
    }

    #[test]
    fn every_word_must_match_and_the_last_may_be_a_prefix() {
        let dune = ("dune messiah", "frank herbert");
        assert!(query("dun").matches(dune.0, dune.1));
        assert!(query("messiah herb").matches(dune.0, dune.1));
        assert!(!query("mess herbert").matches(dune.0, dune.1), "only the last word is a prefix");
        assert!(!query("dune gaiman").matches(dune.0, dune.1), "every word must match");
        assert!(!query("une").matches(dune.0, dune.1), "a prefix, not a substring");
    }
}
