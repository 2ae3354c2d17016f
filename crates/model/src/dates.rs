//! Dates on both sides: Vikunja's RFC 3339 (any offset, year 1 = unset) and Taskwarrior's
//! `YYYYMMDDTHHMMSSZ`. The canonical form is unix seconds (Taskwarrior's resolution).

use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{OffsetDateTime, PrimitiveDateTime, UtcOffset};

/// Vikunja's "unset" date.
pub const VIKUNJA_ZERO_DATE: &str = "0001-01-01T00:00:00Z";

/// Parses a Vikunja date; `None` for empty, null-ish or year-1 ("unset") values.
pub fn parse_vikunja(s: &str) -> Option<i64> {
    let dt = OffsetDateTime::parse(s, &Rfc3339).ok()?;
    (dt.year() > 1).then(|| dt.unix_timestamp())
}

/// Parses a Vikunja date keeping sub-second precision, in microseconds.
pub fn parse_vikunja_us(s: &str) -> Option<i64> {
    let dt = OffsetDateTime::parse(s, &Rfc3339).ok()?;
    (dt.year() > 1).then(|| (dt.unix_timestamp_nanos() / 1000) as i64)
}

/// Formats unix seconds the way Vikunja accepts them (UTC, `Z`).
pub fn format_vikunja(secs: Option<i64>) -> String {
    secs.and_then(|s| OffsetDateTime::from_unix_timestamp(s).ok())
        .and_then(|dt| dt.format(&Rfc3339).ok())
        .unwrap_or_else(|| VIKUNJA_ZERO_DATE.to_string())
}

/// The earliest date Taskwarrior stores: it reads a smaller epoch number as something else, so
/// 2.6 crashes importing an earlier date and 3.x stores one and then cannot export the task.
pub const TW_EARLIEST_DATE: i64 = 315_532_800; // 1980-01-01T00:00:00Z

/// Parses a Taskwarrior date: the export form `20260301T090000Z`, RFC 3339, or epoch seconds.
pub fn parse_tw(s: &str) -> Option<i64> {
    let compact = format_description!("[year][month][day]T[hour][minute][second]Z");
    if let Ok(dt) = PrimitiveDateTime::parse(s, &compact) {
        return Some(dt.assume_offset(UtcOffset::UTC).unix_timestamp());
    }
    if let Ok(dt) = OffsetDateTime::parse(s, &Rfc3339) {
        return Some(dt.unix_timestamp());
    }
    s.parse::<i64>().ok()
}

/// Formats unix seconds as Taskwarrior exports them (`20260301T090000Z`).
pub fn format_tw(secs: i64) -> String {
    let compact = format_description!("[year][month][day]T[hour][minute][second]Z");
    OffsetDateTime::from_unix_timestamp(secs)
        .ok()
        .and_then(|dt| dt.format(&compact).ok())
        .unwrap_or_else(|| "19700101T000000Z".to_string())
}

/// Now, in unix microseconds.
pub fn now_us() -> i64 {
    (OffsetDateTime::now_utc().unix_timestamp_nanos() / 1000) as i64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vikunja_dates_with_any_offset_and_year_one_unset() {
        assert_eq!(parse_vikunja("2026-03-01T09:00:00Z"), Some(1_772_355_600));
        assert_eq!(
            parse_vikunja("2026-03-01T11:00:00.123456789+02:00"),
            Some(1_772_355_600)
        );
        assert_eq!(parse_vikunja(VIKUNJA_ZERO_DATE), None);
        assert_eq!(parse_vikunja("0001-01-01T00:17:30+00:17"), None);
        assert_eq!(parse_vikunja(""), None);
        assert_eq!(format_vikunja(Some(1_772_355_600)), "2026-03-01T09:00:00Z");
        assert_eq!(format_vikunja(None), VIKUNJA_ZERO_DATE);
    }

    #[test]
    fn taskwarrior_dates_round_trip() {
        assert_eq!(parse_tw("20260301T090000Z"), Some(1_772_355_600));
        assert_eq!(parse_tw("2026-03-01T11:00:00+02:00"), Some(1_772_355_600));
        assert_eq!(parse_tw("1772355600"), Some(1_772_355_600));
        assert_eq!(format_tw(1_772_355_600), "20260301T090000Z");
        assert_eq!(parse_tw("garbage"), None);
    }
}
