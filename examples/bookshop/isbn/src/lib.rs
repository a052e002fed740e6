//! ISBN-10 and ISBN-13: check digits, validation and conversion.
//!
//! The same rules as `bookshop.domain.isbn` (Python) and `web/src/isbn.js` (the browser's
//! form): the canonical form is the 13-digit ISBN without separators.

use std::fmt;

/// Why a text is not a valid ISBN.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IsbnError {
    /// Nothing left after removing spaces, hyphens and an `ISBN` label.
    Empty,
    /// Neither 10 nor 13 characters.
    Length(usize),
    /// A character that is not allowed where it is.
    Characters,
    /// An ISBN-13 outside the 978 and 979 ("Bookland") prefixes.
    Prefix,
    /// The check digit does not match the others.
    CheckDigit,
}

impl fmt::Display for IsbnError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IsbnError::Empty => write!(f, "empty"),
            IsbnError::Length(n) => write!(f, "expected 10 or 13 characters, got {n}"),
            IsbnError::Characters => write!(f, "only digits (and a final X in an ISBN-10)"),
            IsbnError::Prefix => write!(f, "ISBN-13 must start with 978 or 979"),
            IsbnError::CheckDigit => write!(f, "wrong check digit"),
        }
    }
}

impl std::error::Error for IsbnError {}

/// The text without spaces, hyphens or a leading `ISBN`/`ISBN:` label, upper-cased.
pub fn normalize(value: &str) -> String {
    let mut text = value.trim();
    if text.len() >= 4 && text[..4].eq_ignore_ascii_case("isbn") {
        text = text[4..].trim_start_matches(':').trim();
    }
    text.chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

fn digits(text: &str) -> Option<Vec<u32>> {
    text.chars().map(|c| c.to_digit(10)).collect()
}

/// The check character (`'0'`..=`'9'` or `'X'`) of an ISBN-10's first nine digits.
pub fn isbn10_check_digit(first_nine: &str) -> Result<char, IsbnError> {
    let d = digits(first_nine).ok_or(IsbnError::Characters)?;
    if d.len() != 9 {
        return Err(IsbnError::Length(d.len()));
    }
    let total: u32 = d.iter().enumerate().map(|(i, x)| (10 - i as u32) * x).sum();
    Ok(match (11 - total % 11) % 11 {
        10 => 'X',
        check => char::from_digit(check, 10).expect("below 10"),
    })
}

/// The check digit of an ISBN-13's (an EAN-13's) first twelve digits.
pub fn isbn13_check_digit(first_twelve: &str) -> Result<char, IsbnError> {
    let d = digits(first_twelve).ok_or(IsbnError::Characters)?;
    if d.len() != 12 {
        return Err(IsbnError::Length(d.len()));
    }
    let total: u32 = d
        .iter()
        .enumerate()
        .map(|(i, x)| if i % 2 == 1 { 3 * x } else { *x })
        .sum();
    Ok(char::from_digit((10 - total % 10) % 10, 10).expect("below 10"))
}

/// Validate any form of ISBN and return its canonical 13-digit form.
pub fn parse(value: &str) -> Result<String, IsbnError> {
    let text = normalize(value);
    match text.len() {
        0 => Err(IsbnError::Empty),
        10 => {
            let check = isbn10_check_digit(&text[..9])?;
            let last = text.chars().last().expect("ten characters");
            if !(last.is_ascii_digit() || last == 'X') {
                return Err(IsbnError::Characters);
            }
            if last != check {
                return Err(IsbnError::CheckDigit);
            }
            let body = format!("978{}", &text[..9]);
            let check13 = isbn13_check_digit(&body)?;
            Ok(format!("{body}{check13}"))
        }
        13 => {
            if !text.chars().all(|c| c.is_ascii_digit()) {
                return Err(IsbnError::Characters);
            }
            if !(text.starts_with("978") || text.starts_with("979")) {
                return Err(IsbnError::Prefix);
            }
            if isbn13_check_digit(&text[..12])? != text.chars().last().expect("13 characters") {
                return Err(IsbnError::CheckDigit);
            }
            Ok(text)
        }
        n => Err(IsbnError::Length(n)),
    }
}

/// Whether the text is a valid ISBN-10 or ISBN-13.
pub fn is_valid(value: &str) -> bool {
    parse(value).is_ok()
}

/// The ISBN-10 form of a 978-prefixed ISBN (979 ISBNs have none).
pub fn to_isbn10(value: &str) -> Result<String, IsbnError> {
    let canonical = parse(value)?;
    if !canonical.starts_with("978") {
        return Err(IsbnError::Prefix);
    }
    let body = &canonical[3..12];
    Ok(format!("{body}{}", isbn10_check_digit(body)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_digits_of_a_known_isbn() {
        assert_eq!(isbn13_check_digit("978030640615"), Ok('7'));
        assert_eq!(isbn10_check_digit("030640615"), Ok('2'));
    }

    #[test]
    fn a_ten_is_written_x() {
        assert_eq!(isbn10_check_digit("080442957"), Ok('X'));
    }

    #[test]
    fn check_digits_need_the_right_number_of_digits() {
        assert_eq!(
            isbn13_check_digit("97803064061"),
            Err(IsbnError::Length(11))
        );
        assert_eq!(isbn10_check_digit("03064061A"), Err(IsbnError::Characters));
    }

    #[test]
    fn normalize_drops_separators_and_the_label() {
        assert_eq!(normalize(" ISBN: 978-0 306-40615-7 "), "9780306406157");
        assert_eq!(normalize("0-8044-2957-x"), "080442957X");
    }
}
