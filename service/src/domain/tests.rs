#![expect(clippy::unwrap_used, reason = "tests")]

use super::*;

fn field(result: Result<impl std::fmt::Debug, ServiceError>) -> &'static str {
    match result {
        Err(ServiceError::Validation { field, .. }) => field,
        other => panic!("expected a validation error, got {other:?}"),
    }
}

#[test]
fn isbn13_with_hyphens_is_accepted_and_compacted() {
    assert_eq!(Isbn::parse("978-0-441-17271-9").unwrap().as_str(), "9780441172719");
}

#[test]
fn isbn10_becomes_isbn13() {
    assert_eq!(Isbn::parse("0-441-17271-7").unwrap().as_str(), "9780441172719");
    assert_eq!(Isbn::parse("080442957X").unwrap().as_str(), "9780804429573");
}

#[test]
fn isbn_with_a_wrong_check_digit_is_rejected() {
    assert_eq!(field(Isbn::parse("9780441172710")), "isbn");
    assert_eq!(field(Isbn::parse("0441172718")), "isbn");
}

#[test]
fn isbn_of_wrong_shape_is_rejected() {
    for raw in ["", "123", "97804411727190", "97804411727X9", "X441172717", "ISBN 9780441172719"] {
        assert_eq!(field(Isbn::parse(raw)), "isbn", "{raw:?}");
    }
}

#[test]
fn a_computed_check_digit_makes_an_isbn_that_parses() {
    assert_eq!(Isbn::with_check_digit("978044117271").unwrap().as_str(), "9780441172719");
    for first_twelve in ["978000000000", "979123456789", "978999999999"] {
        let made = Isbn::with_check_digit(first_twelve).unwrap();
        assert_eq!(Isbn::parse(made.as_str()).unwrap(), made);
    }
    for bad in ["97804411727", "9780441172719", "97804411727x", "９７８０４４１１７２７１"] {
        assert_eq!(field(Isbn::with_check_digit(bad)), "isbn", "{bad:?}");
    }
}

#[test]
fn titles_are_trimmed_and_bounded() {
    assert_eq!(Title::parse("  Dune ").unwrap().into_inner(), "Dune");
    assert_eq!(field(Title::parse("   ")), "title");
    assert_eq!(field(Title::parse(&"x".repeat(501))), "title");
    assert!(Title::parse(&"é".repeat(500)).is_ok(), "the limit counts characters, not bytes");
    assert_eq!(field(Title::parse("Du\0ne")), "title");
}

#[test]
fn names_are_bounded() {
    assert_eq!(PersonName::parse(" Ursula K. Le Guin ").unwrap().into_inner(), "Ursula K. Le Guin");
    assert_eq!(field(PersonName::parse("")), "name");
    assert_eq!(field(PersonName::parse(&"n".repeat(201))), "name");
}

#[test]
fn emails_are_lowercased() {
    assert_eq!(Email::parse(" Ada@Example.ORG ").unwrap().into_inner(), "ada@example.org");
}

#[test]
fn malformed_emails_are_rejected() {
    for raw in [
        "",
        "ada",
        "ada@",
        "@example.org",
        "ada@example",
        "a b@example.org",
        "ada@exa_mple.org",
        "ada@-x.org",
        "ada@b\u{fc}cher.de",
        "ada@\u{212a}.org",
    ] {
        assert_eq!(field(Email::parse(raw)), "email", "{raw:?}");
    }
    assert_eq!(field(Email::parse(&format!("{}@example.org", "a".repeat(65)))), "email");
    assert_eq!(field(Email::parse(&format!("{}@example.org", "\u{fc}".repeat(65)))), "email");
}

#[test]
fn email_lengths_count_characters_of_the_value_as_sent() {
    let local = "\u{fc}".repeat(Email::MAX_LOCAL_CHARS);
    assert_eq!(
        Email::parse(&format!("{local}@example.org")).unwrap().into_inner(),
        format!("{local}@example.org")
    );
    // Lower-casing U+0130 makes two characters of one: the limit applies to what was sent.
    let dotted = "\u{130}".repeat(Email::MAX_LOCAL_CHARS);
    assert!(Email::parse(&format!("{dotted}@example.org")).is_ok());
    let domain = format!("{}.org", "d".repeat(Email::MAX_CHARS - 6));
    assert!(Email::parse(&format!("a@{domain}")).is_ok());
    assert_eq!(field(Email::parse(&format!(" a@{domain}"))), "email", "spaces around count");
    assert_eq!(field(Email::parse(&format!("ab@{domain}"))), "email");
}

#[test]
fn ratings_run_from_one_to_five() {
    assert_eq!(Rating::parse(1).unwrap().get(), 1);
    assert_eq!(Rating::parse(5).unwrap().get(), 5);
    for raw in [0, 6, -1, i64::MAX, i64::MIN, 65_537] {
        assert_eq!(field(Rating::parse(raw)), "rating", "{raw}");
    }
}

#[test]
fn blank_comments_are_none_and_long_ones_rejected() {
    assert_eq!(Comment::parse(Some("  ")).unwrap().into_inner(), None);
    assert_eq!(Comment::parse(None).unwrap().into_inner(), None);
    assert_eq!(Comment::parse(Some(" Great ")).unwrap().into_inner().as_deref(), Some("Great"));
    assert_eq!(field(Comment::parse(Some(&"c".repeat(4001)))), "comment");
}

#[test]
fn comments_keep_line_breaks_and_tabs_but_refuse_other_control_characters() {
    let kept = Comment::parse(Some("Loved it.\r\n\n- plot\t5/5")).unwrap().into_inner();
    assert_eq!(kept.as_deref(), Some("Loved it.\r\n\n- plot\t5/5"));
    for raw in ["\u{1b}[31mred\u{1b}[0m", "a\0b", "back\u{8}space", "del\u{7f}", "c1\u{9b}2J"] {
        assert_eq!(field(Comment::parse(Some(raw))), "comment", "{raw:?}");
    }
}

#[test]
fn titles_names_and_subjects_refuse_bidi_overrides_and_zero_width_characters() {
    let hidden = [
        '\u{202A}', '\u{202B}', '\u{202C}', '\u{202D}', '\u{202E}', '\u{2066}', '\u{2067}', '\u{2068}',
        '\u{2069}', '\u{200B}', '\u{200C}', '\u{200D}', '\u{200E}', '\u{200F}', '\u{2060}', '\u{FEFF}',
    ];
    for c in hidden {
        let raw = format!("Ad{c}a");
        assert_eq!(field(Title::parse(&raw)), "title", "{c:?}");
        assert_eq!(field(PersonName::parse(&raw)), "name", "{c:?}");
        assert_eq!(field(AuthSubject::parse(&raw)), "subject", "{c:?}");
    }
    // Right-to-left scripts and accents are text, not formatting.
    assert!(Title::parse("כתר ודם").is_ok());
    assert!(PersonName::parse("Nguyễn Thị Minh Khai").is_ok());
}

#[test]
fn loan_periods_are_bounded_by_policy() {
    assert_eq!(LoanPeriod::parse(14, 60).unwrap().days(), 14);
    assert_eq!(LoanPeriod::parse(60, 60).unwrap().duration(), chrono::TimeDelta::days(60));
    for raw in [0, -3, 61, i64::MAX] {
        assert_eq!(field(LoanPeriod::parse(raw, 60)), "period_days", "{raw}");
    }
}

#[test]
fn page_limits_default_to_twenty_and_cap_at_one_hundred() {
    assert_eq!(PageLimit::parse(None).unwrap().get(), 20);
    assert_eq!(PageLimit::parse(Some(100)).unwrap().get(), 100);
    for raw in [0, 101, -1] {
        assert_eq!(field(PageLimit::parse(Some(raw))), "limit", "{raw}");
    }
}

#[test]
fn search_terms_are_trimmed_and_bounded() {
    let term = |raw: &str| SearchTerm::title(raw).map(|t| t.map(|t| t.as_str().to_owned()));
    assert_eq!(term("  dune ").unwrap().as_deref(), Some("dune"));
    assert_eq!(term("   ").unwrap(), None);
    assert_eq!(field(SearchTerm::title(&"t".repeat(501))), "title");
    assert!(SearchTerm::name(&"n".repeat(200)).is_ok());
    assert_eq!(field(SearchTerm::name(&"n".repeat(201))), "name");
    assert_eq!(field(SearchTerm::email(&"e".repeat(255))), "email");
}

#[test]
fn search_terms_refuse_control_characters() {
    assert_eq!(field(SearchTerm::title("du\0ne")), "title");
}

#[test]
fn dates_stay_within_four_digit_years() {
    for ok in [(1965, 8, 1), (1, 1, 1), (9999, 12, 31)] {
        let ok = chrono::NaiveDate::from_ymd_opt(ok.0, ok.1, ok.2).unwrap();
        assert_eq!(CalendarDate::parse("published_date", ok).unwrap().get(), ok);
    }
    for year in [-4713, 0, 10_000] {
        let date = chrono::NaiveDate::from_ymd_opt(year, 1, 1).unwrap();
        assert_eq!(field(CalendarDate::parse("published_date", date)), "published_date");
    }
}
