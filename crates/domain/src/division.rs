//! Administrative division codes (GB/T 2260 plus township and village codes).
//!
//! A code has 12 digits: 2 province, 2 city, 2 county, 3 township, 3 village.
//! The significant prefix of a code is its jurisdiction: `430602` (岳阳楼区)
//! contains every code that starts with it.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::UserError;

/// A valid 12-digit administrative division code.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DivisionCode([u8; 12]);

/// The level of a division, from its code's zero tail.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DivisionLevel {
    Province,
    City,
    County,
    Township,
    Village,
}

impl DivisionLevel {
    /// Number of significant leading digits at this level.
    pub fn prefix_len(self) -> usize {
        match self {
            Self::Province => 2,
            Self::City => 4,
            Self::County => 6,
            Self::Township => 9,
            Self::Village => 12,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Province => "province",
            Self::City => "city",
            Self::County => "county",
            Self::Township => "township",
            Self::Village => "village",
        }
    }

    /// The level below, if any.
    pub fn child(self) -> Option<Self> {
        match self {
            Self::Province => Some(Self::City),
            Self::City => Some(Self::County),
            Self::County => Some(Self::Township),
            Self::Township => Some(Self::Village),
            Self::Village => None,
        }
    }
}

/// Why a string is not a division code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DivisionError {
    #[error("a division code has 12 digits, got {0} characters")]
    Length(usize),
    #[error("a division code has digits only")]
    NotDigits,
    #[error("a division code cannot be all zeros")]
    Zero,
    #[error("a division code's lower levels must be zero below its first zero level")]
    Gap,
}

impl UserError for DivisionError {
    fn code(&self) -> &'static str {
        "invalid_division_code"
    }

    fn message_zh(&self) -> String {
        match self {
            Self::Length(n) => format!("行政区划代码应为12位数字，实际为{n}位"),
            Self::NotDigits => "行政区划代码只能包含数字".to_owned(),
            Self::Zero => "行政区划代码不能全为0".to_owned(),
            Self::Gap => "行政区划代码的层级不连续（上级为0而下级不为0）".to_owned(),
        }
    }
}

impl DivisionCode {
    /// Parses a 12-digit code. Surrounding whitespace is ignored; shorter
    /// codes are not padded, because `4306` could be a typo as easily as a city.
    pub fn parse(input: &str) -> Result<Self, DivisionError> {
        let s = input.trim();
        let n = s.chars().count();
        if n != 12 {
            return Err(DivisionError::Length(n));
        }
        let mut digits = [0u8; 12];
        for (d, b) in digits.iter_mut().zip(s.bytes()) {
            if !b.is_ascii_digit() {
                return Err(DivisionError::NotDigits);
            }
            *d = b;
        }
        let code = Self(digits);
        if code.as_str() == "000000000000" {
            return Err(DivisionError::Zero);
        }
        // Province and (below it) city digits are never zero. A zero county
        // is real: cities without counties (东莞 4419) have townships directly.
        let level = code.level();
        if code.0[..2] == *b"00" || (level > DivisionLevel::City && code.0[2..4] == *b"00") {
            return Err(DivisionError::Gap);
        }
        Ok(code)
    }

    /// Builds a code from its significant prefix (2, 4, 6, 9 or 12 digits).
    pub fn from_prefix(prefix: &str) -> Result<Self, DivisionError> {
        if !matches!(prefix.len(), 2 | 4 | 6 | 9 | 12) {
            return Err(DivisionError::Length(prefix.len()));
        }
        Self::parse(&format!("{prefix:0<12}"))
    }

    pub fn as_str(&self) -> &str {
        // Only ASCII digits are ever stored.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }

    pub fn level(&self) -> DivisionLevel {
        let zero = |r: std::ops::Range<usize>| self.0[r].iter().all(|&b| b == b'0');
        if !zero(9..12) {
            DivisionLevel::Village
        } else if !zero(6..9) {
            DivisionLevel::Township
        } else if !zero(4..6) {
            DivisionLevel::County
        } else if !zero(2..4) {
            DivisionLevel::City
        } else {
            DivisionLevel::Province
        }
    }

    /// The significant prefix: the jurisdiction this code stands for.
    pub fn prefix(&self) -> &str {
        &self.as_str()[..self.level().prefix_len()]
    }

    /// The enclosing division one level up, `None` for a province.
    ///
    /// Some counties sit directly under a province (省直辖县, e.g. 429004);
    /// their parent code (4290…) is the pseudo-city NBS publishes for them.
    pub fn parent(&self) -> Option<Self> {
        let keep = match self.level() {
            DivisionLevel::Province => return None,
            DivisionLevel::City => 2,
            DivisionLevel::County => 4,
            DivisionLevel::Township => 6,
            DivisionLevel::Village => 9,
        };
        let mut digits = [b'0'; 12];
        digits[..keep].copy_from_slice(&self.0[..keep]);
        Some(Self(digits))
    }

    /// Whether `other` lies within this division (or is it).
    pub fn contains(&self, other: &Self) -> bool {
        other.as_str().starts_with(self.prefix())
    }

    /// The six-digit county part, as used in resident ID numbers.
    pub fn county_digits(&self) -> &str {
        &self.as_str()[..6]
    }
}

impl fmt::Display for DivisionCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for DivisionCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DivisionCode({})", self.as_str())
    }
}

impl std::str::FromStr for DivisionCode {
    type Err = DivisionError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl Serialize for DivisionCode {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for DivisionCode {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Self::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(s: &str) -> DivisionCode {
        DivisionCode::parse(s).unwrap()
    }

    #[test]
    fn levels_and_prefixes() {
        assert_eq!(code("430000000000").level(), DivisionLevel::Province);
        assert_eq!(code("430600000000").level(), DivisionLevel::City);
        assert_eq!(code("430602000000").level(), DivisionLevel::County);
        assert_eq!(code("430602001000").level(), DivisionLevel::Township);
        assert_eq!(code("430602001001").level(), DivisionLevel::Village);
        assert_eq!(code("430602001000").prefix(), "430602001");
    }

    #[test]
    fn parents_walk_up_to_the_province() {
        let mut c = code("430602001001");
        let mut seen = vec![c.to_string()];
        while let Some(p) = c.parent() {
            seen.push(p.to_string());
            c = p;
        }
        assert_eq!(seen, ["430602001001", "430602001000", "430602000000", "430600000000", "430000000000"]);
    }

    #[test]
    fn jurisdiction_is_a_prefix() {
        let district = code("430602000000");
        assert!(district.contains(&code("430602001001")));
        assert!(district.contains(&district));
        assert!(!district.contains(&code("430603001001")));
        assert!(!code("430602001001").contains(&district));
    }

    #[test]
    fn rejections_name_their_reason() {
        assert_eq!(DivisionCode::parse("4306"), Err(DivisionError::Length(4)));
        assert_eq!(DivisionCode::parse("43060200100a"), Err(DivisionError::NotDigits));
        assert_eq!(DivisionCode::parse("000000000000"), Err(DivisionError::Zero));
        assert_eq!(DivisionCode::parse("430000001000"), Err(DivisionError::Gap));
        assert_eq!(DivisionCode::parse("000602000000"), Err(DivisionError::Gap));
        assert_eq!(code("441900003000").parent(), Some(code("441900000000")), "东莞: township under a city");
        assert_eq!(DivisionCode::parse("四三零六零二零零一零零一"), Err(DivisionError::NotDigits));
    }

    #[test]
    fn from_prefix_pads() {
        assert_eq!(DivisionCode::from_prefix("430602").unwrap(), code("430602000000"));
        assert!(DivisionCode::from_prefix("43060").is_err());
    }
}
