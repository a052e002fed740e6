//! The crate's public functions, as a user of the crate calls them.

use isbn::{is_valid, parse, to_isbn10, IsbnError};

#[test]
fn parses_every_form_to_the_canonical_isbn_13() {
    assert_eq!(parse("978-0-306-40615-7").as_deref(), Ok("9780306406157"));
    assert_eq!(parse("0-306-40615-2").as_deref(), Ok("9780306406157"));
    assert_eq!(parse("ISBN 080442957X").as_deref(), Ok("9780804429573"));
    assert_eq!(parse("979-10-90636-07-1").as_deref(), Ok("9791090636071"));
}

#[test]
fn says_why_an_isbn_is_refused() {
    assert_eq!(parse(""), Err(IsbnError::Empty));
    assert_eq!(parse("12345"), Err(IsbnError::Length(5)));
    assert_eq!(parse("978-0-306-40615-8"), Err(IsbnError::CheckDigit));
    assert_eq!(parse("0-306-40615-3"), Err(IsbnError::CheckDigit));
    assert_eq!(parse("977-0-306-40615-7"), Err(IsbnError::Prefix));
    assert_eq!(parse("978-0-306-4061X-7"), Err(IsbnError::Characters));
    assert_eq!(parse("03064X6152"), Err(IsbnError::Characters));
    assert_eq!(
        IsbnError::Length(5).to_string(),
        "expected 10 or 13 characters, got 5"
    );
}

#[test]
fn converts_back_to_isbn_10_where_there_is_one() {
    assert_eq!(to_isbn10("9780306406157").as_deref(), Ok("0306406152"));
    assert_eq!(to_isbn10("9780804429573").as_deref(), Ok("080442957X"));
    assert_eq!(to_isbn10("9791090636071"), Err(IsbnError::Prefix));
}

#[test]
fn every_isbn_made_from_a_serial_is_valid_and_a_changed_digit_is_not() {
    for serial in 0..2000u32 {
        let body = format!("978{serial:09}");
        let check = isbn::isbn13_check_digit(&body).unwrap();
        let isbn = format!("{body}{check}");
        assert!(is_valid(&isbn), "{isbn}");
        let wrong = (check.to_digit(10).unwrap() + 1) % 10;
        assert!(!is_valid(&format!("{body}{wrong}")), "{body}{wrong}");
    }
}
