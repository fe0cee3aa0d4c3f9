//! UTC timestamps in the ISO-8601 form Macie prints (`2024-03-11T19:46:53.031Z`).
//!
//! A tiny, dependency-free civil-calendar implementation (Howard Hinnant's algorithms):
//! dragnet only needs UTC instants, millisecond precision, parsing of the forms users write
//! in job specs, and weekday/month arithmetic for schedules.

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A UTC instant with millisecond precision.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp {
    millis: i64,
}

/// Why a timestamp string was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{input:?} is not an ISO-8601 UTC timestamp (expected e.g. 2023-09-24T14:31:13Z)")]
pub struct TimestampError {
    input: String,
}

impl Timestamp {
    /// The instant `millis` milliseconds after the Unix epoch.
    pub const fn from_millis(millis: i64) -> Self {
        Self { millis }
    }

    /// Milliseconds since the Unix epoch.
    pub const fn millis(self) -> i64 {
        self.millis
    }

    /// The current time.
    pub fn now() -> Self {
        Self::from_system_time(SystemTime::now())
    }

    /// Converts a `SystemTime` (file modification times, clocks), clamping pre-epoch times.
    pub fn from_system_time(t: SystemTime) -> Self {
        let millis = t
            .duration_since(UNIX_EPOCH)
            .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
            .unwrap_or(0);
        Self { millis }
    }

    /// The `SystemTime` of this instant (pre-epoch instants clamp to the epoch).
    pub fn to_system_time(self) -> SystemTime {
        UNIX_EPOCH + Duration::from_millis(u64::try_from(self.millis).unwrap_or(0))
    }

    /// Builds a timestamp from civil UTC fields; `None` when a field is out of range.
    pub fn from_civil(
        year: i64,
        month: u32,
        day: u32,
        hour: u32,
        minute: u32,
        second: u32,
        millis: u32,
    ) -> Option<Self> {
        if !(1..=12).contains(&month)
            || day == 0
            || day > days_in_month(year, month)
            || hour > 23
            || minute > 59
            || second > 60
            || millis > 999
        {
            return None;
        }
        let days = days_from_civil(year, month, day);
        let secs =
            days * 86_400 + i64::from(hour) * 3600 + i64::from(minute) * 60 + i64::from(second);
        Some(Self {
            millis: secs * 1000 + i64::from(millis),
        })
    }

    /// `(year, month, day)` of this instant in UTC.
    pub fn date(self) -> (i64, u32, u32) {
        civil_from_days(self.millis.div_euclid(86_400_000))
    }

    /// Day of the week, 0 = Sunday .. 6 = Saturday.
    pub fn weekday(self) -> u32 {
        let days = self.millis.div_euclid(86_400_000);
        // 1970-01-01 was a Thursday (4).
        (days + 4).rem_euclid(7) as u32
    }

    /// Parses `YYYY-MM-DD`, `YYYY-MM-DDTHH:MM[:SS[.fff]]` followed by `Z`, `+HH:MM` or nothing
    /// (taken as UTC, as Macie's scoping values are).
    pub fn parse(input: &str) -> Result<Self, TimestampError> {
        parse_iso8601(input.trim()).ok_or_else(|| TimestampError {
            input: input.to_string(),
        })
    }
}

impl fmt::Display for Timestamp {
    /// Formats as `YYYY-MM-DDTHH:MM:SS.mmmZ`, the form Macie's findings use.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let days = self.millis.div_euclid(86_400_000);
        let ms_of_day = self.millis.rem_euclid(86_400_000);
        let (y, m, d) = civil_from_days(days);
        let secs = ms_of_day / 1000;
        write!(
            f,
            "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z",
            secs / 3600,
            (secs / 60) % 60,
            secs % 60,
            ms_of_day % 1000
        )
    }
}

impl serde::Serialize for Timestamp {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Timestamp {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Timestamp::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// Number of days in `month` of `year` (proleptic Gregorian).
pub fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        _ => 0,
    }
}

fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

fn parse_iso8601(s: &str) -> Option<Timestamp> {
    let b = s.as_bytes();
    let num = |from: usize, len: usize| -> Option<u32> {
        let part = b.get(from..from + len)?;
        if !part.iter().all(u8::is_ascii_digit) {
            return None;
        }
        std::str::from_utf8(part).ok()?.parse().ok()
    };
    let year = i64::from(num(0, 4)?);
    if b.get(4) != Some(&b'-') || b.get(7) != Some(&b'-') {
        return None;
    }
    let (month, day) = (num(5, 2)?, num(8, 2)?);
    if b.len() == 10 {
        return Timestamp::from_civil(year, month, day, 0, 0, 0, 0);
    }
    if !matches!(b.get(10), Some(b'T' | b't' | b' ')) || b.get(13) != Some(&b':') {
        return None;
    }
    let (hour, minute) = (num(11, 2)?, num(14, 2)?);
    let mut i = 16;
    let mut second = 0;
    let mut millis = 0;
    if b.get(i) == Some(&b':') {
        second = num(i + 1, 2)?;
        i += 3;
        if b.get(i) == Some(&b'.') {
            i += 1;
            let start = i;
            while b.get(i).is_some_and(u8::is_ascii_digit) {
                i += 1;
            }
            if i == start {
                return None;
            }
            let frac = &s[start..i.min(start + 3)];
            millis = frac.parse::<u32>().ok()? * 10u32.pow(3 - frac.len() as u32);
        }
    }
    let offset_minutes: i64 = match b.get(i) {
        None => 0,
        Some(b'Z' | b'z') if i + 1 == b.len() => 0,
        Some(sign @ (b'+' | b'-')) if b.len() == i + 6 && b[i + 3] == b':' => {
            let mins = i64::from(num(i + 1, 2)?) * 60 + i64::from(num(i + 4, 2)?);
            if *sign == b'+' {
                mins
            } else {
                -mins
            }
        }
        _ => return None,
    };
    let t = Timestamp::from_civil(year, month, day, hour, minute, second, millis)?;
    Some(Timestamp::from_millis(t.millis - offset_minutes * 60_000))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_like_macie() {
        let t = Timestamp::parse("2024-03-11T19:46:53.031Z").unwrap();
        assert_eq!(t.to_string(), "2024-03-11T19:46:53.031Z");
        assert_eq!(
            Timestamp::from_millis(0).to_string(),
            "1970-01-01T00:00:00.000Z"
        );
    }

    #[test]
    fn parses_the_forms_users_write() {
        let z = Timestamp::parse("2023-09-24T14:31:13Z").unwrap();
        assert_eq!(Timestamp::parse("2023-09-24T14:31:13").unwrap(), z);
        assert_eq!(Timestamp::parse("2023-09-24T16:31:13+02:00").unwrap(), z);
        assert_eq!(
            Timestamp::parse("2023-09-24").unwrap().to_string(),
            "2023-09-24T00:00:00.000Z"
        );
        assert_eq!(
            Timestamp::parse("2023-09-24T14:31:13.5Z").unwrap().millis() % 1000,
            500
        );
    }

    #[test]
    fn rejects_garbage_and_impossible_dates() {
        for bad in [
            "",
            "yesterday",
            "2023-02-30",
            "2023-13-01T00:00Z",
            "2023-09-24T25:00Z",
            "2023-09-24T10:00Zjunk",
            "２０２３-01-01",
        ] {
            assert!(Timestamp::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn civil_round_trip_and_weekday() {
        for days in [-1_000_000i64, -1, 0, 1, 19_000, 2_000_000] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
        // 2026-11-23 is a Monday.
        assert_eq!(
            Timestamp::parse("2026-11-23T10:00:00Z").unwrap().weekday(),
            1
        );
        assert_eq!(days_in_month(2024, 2), 29);
        assert_eq!(days_in_month(1900, 2), 28);
    }
}
