//! Days as the API writes them: `YYYY-MM-DD`, exactly. chrono alone would also
//! take `2026-1-5`, which a script could then never be told is not the format.

use chrono::NaiveDate;
use serde::{Deserialize, Deserializer, de};

/// `2026-01-05`; None for anything else (`2026-1-5`, `2026/01/05`, `2026-02-30`).
pub fn parse(text: &str) -> Option<NaiveDate> {
    checked(text).ok()
}

/// The day, or what the text lacks: the shape (`2026-1-5`, [`SHAPE`]) or a day
/// that exists (`2026-02-30`, [`NO_SUCH_DAY`]).
pub fn checked(text: &str) -> Result<NaiveDate, &'static str> {
    let b = text.as_bytes();
    let shaped = b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter().enumerate().all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit());
    if !shaped {
        return Err(SHAPE);
    }
    NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(|_| NO_SUCH_DAY)
}

/// What serde says a value was expected to be; `web::error` reads these back.
pub const SHAPE: &str = "a date as YYYY-MM-DD";
pub const NO_SUCH_DAY: &str = "a day that exists (YYYY-MM-DD)";

fn read<E: de::Error>(text: &str) -> Result<NaiveDate, E> {
    checked(text).map_err(|expected| E::invalid_value(de::Unexpected::Str(text), &expected))
}

/// For `#[serde(deserialize_with = "day::required")]`.
pub fn required<'de, D: Deserializer<'de>>(d: D) -> Result<NaiveDate, D::Error> {
    read(&String::deserialize(d)?)
}

/// For `#[serde(default, deserialize_with = "day::optional")]`: null or absent is None.
pub fn optional<'de, D: Deserializer<'de>>(d: D) -> Result<Option<NaiveDate>, D::Error> {
    Option::<String>::deserialize(d)?.map(|text| read(&text)).transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_full_form_is_a_day() {
        assert_eq!(parse("2026-01-05"), NaiveDate::from_ymd_opt(2026, 1, 5));
        for bad in [
            "2026-1-5",
            "2026-01-5",
            "2026/01/05",
            "2026-02-30",
            " 2026-01-05",
            "2026-01-05T00:00",
            "+2026-01-05",
            "２０２６-01-05",
        ] {
            assert_eq!(parse(bad), None, "{bad}");
        }
        #[derive(Deserialize)]
        struct Form {
            #[serde(deserialize_with = "required")]
            from: NaiveDate,
            #[serde(default, deserialize_with = "optional")]
            to: Option<NaiveDate>,
        }
        let ok: Form = serde_json::from_str(r#"{"from":"2026-01-05","to":null}"#).unwrap();
        assert_eq!((ok.from, ok.to), (NaiveDate::from_ymd_opt(2026, 1, 5).unwrap(), None));
        assert!(serde_json::from_str::<Form>(r#"{"from":"2026-01-05"}"#).unwrap().to.is_none());
        let e = serde_json::from_str::<Form>(r#"{"from":"2026-01-05","to":"2026-1-6"}"#).err().unwrap();
        assert!(e.to_string().contains(&format!("expected {SHAPE}")), "{e}");
        let e = serde_json::from_str::<Form>(r#"{"from":"2026-02-30"}"#).err().unwrap();
        assert!(e.to_string().contains(&format!("expected {NO_SUCH_DAY}")), "{e}");
    }
}
