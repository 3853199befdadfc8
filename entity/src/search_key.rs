//! The form searchable text is stored and compared in: the one piece of behaviour the schema owns.
//!
//! `books.title_key` and `books.author_key` hold a book's title and its authors' names as words in this
//! form, and every backend's full-text index is built over those columns. The service writes them and
//! normalises search terms with the same function, the migration that added them back-filled existing books
//! with it, and the dataset loader fills them for its bulk inserts: one definition, so a word is the same
//! word wherever it is written or looked for. Case, accents and compatibility forms fold here, in Rust,
//! rather than in each database's text-search configuration, so the three backends cannot disagree.

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// The words of `text` as search compares them: NFKD-decomposed (so "ﬁ" is "fi" and "²" is "2"), combining
/// marks dropped ("Brontë" is "bronte"), lower-cased, and split on anything that is not a letter or digit
/// ("K. Le Guin" is `k`, `le`, `guin`; "O'Brien" is `o`, `brien`).
pub fn words(text: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    for c in text.nfkd().flat_map(char::to_lowercase).filter(|c| !is_combining_mark(*c)) {
        if c.is_alphanumeric() {
            word.push(c);
        } else if !word.is_empty() {
            words.push(std::mem::take(&mut word));
        }
    }
    if !word.is_empty() {
        words.push(word);
    }
    words
}

/// The stored key of `text`: its [`words`], separated by single spaces.
#[must_use]
pub fn key(text: &str) -> String {
    words(text).join(" ")
}

/// The stored key of several texts (a book's authors' names, in the order given), as one key.
pub fn key_of_all<'a>(texts: impl IntoIterator<Item = &'a str>) -> String {
    let mut words = Vec::new();
    for text in texts {
        words.extend(self::words(text));
    }
    words.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accents_case_and_punctuation_fold_away() {
        assert_eq!(key("Wuthering Heights (Brontë)"), "wuthering heights bronte");
        assert_eq!(key("  Ursula K. Le Guin "), "ursula k le guin");
        assert_eq!(key("ÉCOLE—des Femmes"), "ecole des femmes");
        assert_eq!(words("O'Brien"), ["o", "brien"]);
    }

    #[test]
    fn compatibility_forms_are_their_plain_letters() {
        assert_eq!(key("ﬁnal Ｄｕｎｅ ²"), "final dune 2");
    }

    #[test]
    fn letters_of_any_script_are_kept_and_nothing_else() {
        assert_eq!(key("Война и мир"), "воина и мир");
        assert_eq!(key("三体"), "三体");
        assert_eq!(key("!!! --- ..."), "");
    }

    #[test]
    fn several_names_make_one_key_in_order() {
        assert_eq!(key_of_all(["Terry Pratchett", "Neil Gaiman"]), "terry pratchett neil gaiman");
        assert_eq!(key_of_all([]), "");
    }
}
