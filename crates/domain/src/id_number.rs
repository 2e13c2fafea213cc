//! Resident ID numbers (居民身份证号码, GB 11643-1999).
//!
//! 18 characters: a 6-digit area code, an 8-digit birth date, a 3-digit
//! sequence (odd for men) and a check character (ISO 7064 MOD 11-2, may be X).

use std::fmt;

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::error::UserError;

/// A valid 18-character resident ID number, upper-case.
///
/// `Debug` masks the middle so a stray log line leaks no one's number.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct IdNumber([u8; 18]);

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Sex {
    Male,
    Female,
}

impl Sex {
    pub fn label_zh(self) -> &'static str {
        match self {
            Self::Male => "男",
            Self::Female => "女",
        }
    }
}

/// Why a string is not a resident ID number.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    #[error("an ID number has 18 characters (or 15 for the old format), got {0}")]
    Length(usize),
    #[error("an ID number has 17 digits followed by a digit or X")]
    Characters,
    #[error("the area code {0} is not a known province")]
    Area(String),
    /// The digits are kept for the caller, never said: a masked number beside them
    /// would be whole again.
    #[error("the birth date (the 7th to 14th characters) is not a real date")]
    BirthDate(String),
    #[error("the birth date (the 7th to 14th characters) is in the future")]
    FutureBirthDate(String),
    #[error("the check character should be {expected}, not {found}")]
    CheckCharacter { expected: char, found: char },
}

impl UserError for IdError {
    fn code(&self) -> &'static str {
        "invalid_id_number"
    }

    fn message_zh(&self) -> String {
        match self {
            Self::Length(n) => format!("身份证号码应为18位（旧版15位），实际为{n}位"),
            Self::Characters => "身份证号码应为17位数字加1位数字或X".to_owned(),
            Self::Area(a) => format!("身份证号码的地区码{a}不是已知的省份"),
            Self::BirthDate(_) => "身份证号码中的出生日期（第7至14位）不是有效日期".to_owned(),
            Self::FutureBirthDate(_) => "身份证号码中的出生日期（第7至14位）晚于今天".to_owned(),
            Self::CheckCharacter { expected, found } => {
                format!("身份证号码校验位错误：应为{expected}，实际为{found}")
            }
        }
    }
}

/// Province prefixes that appear in resident ID numbers, including
/// Taiwan (71), Hong Kong (81), Macao (82) and residence permits (83).
const PROVINCES: &[&str] = &[
    "11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37", "41", "42", "43", "44",
    "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64", "65", "71", "81", "82", "83",
];

const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const CHECK_CHARS: &[u8; 11] = b"10X98765432";

/// The check character for the first 17 digits (ASCII digits only).
fn check_char(first17: &[u8]) -> u8 {
    let sum: u32 = first17.iter().zip(WEIGHTS).map(|(&d, w)| u32::from(d - b'0') * w).sum();
    CHECK_CHARS[(sum % 11) as usize]
}

/// Turns full-width digits, letters and spaces into ASCII and drops spaces
/// around the number, as people paste them from documents and sheets.
fn normalise(input: &str) -> String {
    input
        .chars()
        .map(|c| match c {
            '\u{FF10}'..='\u{FF19}' | '\u{FF38}' | '\u{FF58}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            '\u{3000}' => ' ',
            _ => c,
        })
        .collect::<String>()
        .trim()
        .to_ascii_uppercase()
}

impl IdNumber {
    /// Parses an ID number as of today (a birth date after today is rejected).
    pub fn parse(input: &str) -> Result<Self, IdError> {
        Self::parse_on(input, chrono::Local::now().date_naive())
    }

    /// Parses an ID number, rejecting birth dates after `today`.
    /// A 15-digit number of the 1984 format is upgraded to 18 characters.
    pub fn parse_on(input: &str, today: NaiveDate) -> Result<Self, IdError> {
        let s = normalise(input);
        let n = s.chars().count();
        let bytes: [u8; 18] = match n {
            18 => s.as_bytes().try_into().map_err(|_| IdError::Characters)?,
            15 => {
                if !s.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(IdError::Characters);
                }
                let mut b = [0u8; 18];
                b[..6].copy_from_slice(&s.as_bytes()[..6]);
                b[6..8].copy_from_slice(b"19");
                b[8..17].copy_from_slice(&s.as_bytes()[6..15]);
                b[17] = check_char(&b[..17]);
                b
            }
            _ => return Err(IdError::Length(n)),
        };
        if !bytes[..17].iter().all(u8::is_ascii_digit) || !(bytes[17].is_ascii_digit() || bytes[17] == b'X') {
            return Err(IdError::Characters);
        }
        let text = |r: std::ops::Range<usize>| String::from_utf8_lossy(&bytes[r]).into_owned();
        if !PROVINCES.contains(&text(0..2).as_str()) {
            return Err(IdError::Area(text(0..6)));
        }
        let birth = birth_date(&bytes).ok_or_else(|| IdError::BirthDate(text(6..14)))?;
        if birth > today {
            return Err(IdError::FutureBirthDate(text(6..14)));
        }
        let expected = check_char(&bytes[..17]);
        if bytes[17] != expected {
            return Err(IdError::CheckCharacter { expected: char::from(expected), found: char::from(bytes[17]) });
        }
        Ok(Self(bytes))
    }

    /// Builds the ID number of a person with this area, birth date and
    /// sequence (0–999; odd for men), computing the check character.
    /// Used by the demo generator; fails like `parse` on a bad area or date.
    pub fn from_parts(area: &str, birth: NaiveDate, sequence: u16) -> Result<Self, IdError> {
        let mut s = format!("{area}{}{:03}", birth.format("%Y%m%d"), sequence % 1000);
        if s.len() != 17 {
            return Err(IdError::Length(s.len() + 1));
        }
        if !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(IdError::Characters);
        }
        s.push(char::from(check_char(s.as_bytes())));
        Self::parse_on(&s, birth)
    }

    pub fn as_str(&self) -> &str {
        // Only ASCII digits and X are ever stored.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }

    /// The six-digit area code where the number was issued.
    pub fn area_code(&self) -> &str {
        &self.as_str()[..6]
    }

    pub fn birth_date(&self) -> NaiveDate {
        birth_date(&self.0).unwrap_or_default()
    }

    pub fn sex(&self) -> Sex {
        if (self.0[16] - b'0') % 2 == 1 { Sex::Male } else { Sex::Female }
    }

    /// Completed years of age on `date` (0 before the first birthday).
    pub fn age_on(&self, date: NaiveDate) -> u32 {
        age_on(self.birth_date(), date)
    }

    /// The form shown in lists and exports: `430602********0071`.
    pub fn masked(&self) -> String {
        format!("{}********{}", &self.as_str()[..6], &self.as_str()[14..])
    }
}

/// Completed years between `birth` and `date` (0 if `date` is earlier).
pub fn age_on(birth: NaiveDate, date: NaiveDate) -> u32 {
    let mut years = date.year() - birth.year();
    if (date.month(), date.day()) < (birth.month(), birth.day()) {
        years -= 1;
    }
    u32::try_from(years).unwrap_or(0)
}

fn birth_date(b: &[u8; 18]) -> Option<NaiveDate> {
    let num = |r: std::ops::Range<usize>| -> u32 { b[r].iter().fold(0, |acc, &d| acc * 10 + u32::from(d - b'0')) };
    let year = i32::try_from(num(6..10)).ok()?;
    if year < 1880 {
        return None;
    }
    NaiveDate::from_ymd_opt(year, num(10..12), num(12..14))
}

impl fmt::Display for IdNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for IdNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "IdNumber({})", self.masked())
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 24).unwrap()
    }

    fn parse(s: &str) -> Result<IdNumber, IdError> {
        IdNumber::parse_on(s, today())
    }

    #[test]
    fn accepts_the_reference_vectors() {
        for s in ["360426199101010071", "44011320141005001X", "412723199010050012", "110102199101010078"] {
            assert_eq!(parse(s).unwrap().as_str(), s);
        }
    }

    #[test]
    fn rejects_the_reference_vectors_with_their_reason() {
        assert_eq!(parse("360426199113010079"), Err(IdError::BirthDate("19911301".into())));
        assert_eq!(parse("990426199112010074"), Err(IdError::Area("990426".into())));
        assert!(matches!(parse("36042619910102009X"), Err(IdError::CheckCharacter { found: 'X', .. })));
        assert_eq!(parse("T60426199101010078"), Err(IdError::Characters));
        assert_eq!(parse("3604261991010100"), Err(IdError::Length(16)));
        assert_eq!(parse("360426202701010071").unwrap_err(), IdError::FutureBirthDate("20270101".into()));
        // The digits the mask hides are not said in the message.
        for e in [parse("360426202701010071").unwrap_err(), parse("360426199102300071").unwrap_err()] {
            assert!(!e.to_string().contains("2027") && !e.message_zh().contains("1991"), "{e}");
        }
        assert_eq!(parse("360426199102300071").unwrap_err(), IdError::BirthDate("19910230".into()));
    }

    #[test]
    fn derives_birth_sex_and_age() {
        let id = parse("44011320141005001X").unwrap();
        assert_eq!(id.birth_date(), NaiveDate::from_ymd_opt(2014, 10, 5).unwrap());
        assert_eq!(id.sex(), Sex::Male);
        assert_eq!(id.age_on(NaiveDate::from_ymd_opt(2024, 10, 4).unwrap()), 9);
        assert_eq!(id.age_on(NaiveDate::from_ymd_opt(2024, 10, 5).unwrap()), 10);
        assert_eq!(parse("412723199010050012").unwrap().sex(), Sex::Male);
        assert_eq!(id.area_code(), "440113");
    }

    #[test]
    fn normalises_case_and_spaces() {
        let expected = parse("44011320141005001X").unwrap();
        assert_eq!(parse(" 44011320141005001x ").unwrap(), expected);
        assert_eq!(parse("\u{3000}４４０１１３２０１４１００５００１ｘ\u{3000}").unwrap(), expected);
    }

    #[test]
    fn upgrades_fifteen_digit_numbers() {
        // 1984-format number of someone born 1991-01-01.
        let id = parse("360426910101007").unwrap();
        assert_eq!(&id.as_str()[..17], "36042619910101007");
        assert_eq!(parse(id.as_str()).unwrap(), id);
    }

    #[test]
    fn masks_the_middle() {
        let id = parse("360426199101010071").unwrap();
        assert_eq!(id.masked(), "360426********0071");
        assert_eq!(format!("{id:?}"), "IdNumber(360426********0071)");
    }

    fn any_birth() -> impl Strategy<Value = NaiveDate> {
        (1900i32..=2026, 1u32..=12, 1u32..=28)
            .prop_map(|(y, m, d)| NaiveDate::from_ymd_opt(y, m, d).unwrap())
            .prop_filter("not in the future", |d| *d <= today())
    }

    proptest! {
        #[test]
        fn built_numbers_parse_back(birth in any_birth(), seq in 0u16..1000) {
            let id = IdNumber::from_parts("430602", birth, seq).unwrap();
            let back = parse(id.as_str()).unwrap();
            prop_assert_eq!(back.birth_date(), birth);
            prop_assert_eq!(back.sex() == Sex::Male, seq % 2 == 1);
        }

        #[test]
        fn any_single_digit_change_is_caught(birth in any_birth(), seq in 0u16..1000, pos in 0usize..17, delta in 1u8..10) {
            let id = IdNumber::from_parts("430602", birth, seq).unwrap();
            let mut bytes = id.as_str().as_bytes().to_vec();
            bytes[pos] = b'0' + (bytes[pos] - b'0' + delta) % 10;
            let changed = String::from_utf8(bytes).unwrap();
            prop_assert!(parse(&changed).is_err());
        }

        #[test]
        fn arbitrary_text_never_panics(s in "\\PC{0,24}") {
            let _ = parse(&s);
        }
    }
}
