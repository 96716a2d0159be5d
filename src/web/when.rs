//! Dates as pages show them: a [`When`] writes each of its forms straight into the page.

use std::fmt;

use chrono::{Datelike, NaiveDateTime, Timelike, Utc};

/// A date and time for `<time datetime=...>`, in each of the forms a page shows it. Each form
/// is written straight into the page as it is rendered: a page of 50 posts shows about 200,
/// and making each a string of its own first was a tenth of a logged-in reader's page
/// (perf, 2026-12-07).
#[derive(Debug, Clone, Copy)]
pub struct When {
    t: NaiveDateTime,
    now: NaiveDateTime,
}

impl When {
    /// A UTC timestamp, seen now.
    pub fn new(t: NaiveDateTime) -> When {
        When {
            t,
            now: Utc::now().naive_utc(),
        }
    }

    /// RFC 3339 in UTC, for the `datetime` attribute.
    pub fn iso(&self) -> Iso {
        Iso(self.t)
    }

    /// "22 November 2026".
    pub fn date(&self) -> Day {
        Day(self.t)
    }

    /// "22 November 2026 at 10:03 UTC".
    pub fn full(&self) -> Full {
        Full(self.t)
    }

    /// "3 hours ago" (see [`ago`]).
    pub fn ago(&self) -> Ago {
        Ago {
            t: self.t,
            now: self.now,
        }
    }
}

/// English month names, January first.
const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// "22 November 2026": what chrono's `%-d %B %Y` writes, written directly (chrono itself for
/// a year before 0 or after 9999, which it writes with a sign). A page lists one
/// or two dates per post or thread, and chrono parses its format string anew for each: on the
/// forum page that was about a sixth of the HTTP workers' time.
#[derive(Debug, Clone, Copy)]
pub struct Day(NaiveDateTime);

impl fmt::Display for Day {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let t = self.0;
        if !(0..=9999).contains(&t.year()) {
            return write!(f, "{}", t.format("%-d %B %Y"));
        }
        write!(
            f,
            "{} {} {:04}",
            t.day(),
            MONTHS[t.month0() as usize],
            t.year()
        )
    }
}

/// "22 November 2026 at 10:03 UTC".
#[derive(Debug, Clone, Copy)]
pub struct Full(NaiveDateTime);

impl fmt::Display for Full {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let t = self.0;
        write!(f, "{} at {:02}:{:02} UTC", Day(t), t.hour(), t.minute())
    }
}

/// RFC 3339 in UTC to the second ("2026-11-22T10:03:00Z"), as chrono's
/// `to_rfc3339_opts(Secs, true)` writes it; chrono itself for a year it writes otherwise
/// (before 0 or after 9999).
#[derive(Debug, Clone, Copy)]
pub struct Iso(NaiveDateTime);

impl fmt::Display for Iso {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let t = self.0;
        if !(0..=9999).contains(&t.year()) {
            let written = t
                .and_utc()
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
            return f.write_str(&written);
        }
        write!(
            f,
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
            t.year(),
            t.month(),
            t.day(),
            t.hour(),
            t.minute(),
            t.second()
        )
    }
}

/// "just now", "5 minutes ago", "3 hours ago", "2 days ago", or the date for older times.
#[derive(Debug, Clone, Copy)]
pub struct Ago {
    t: NaiveDateTime,
    now: NaiveDateTime,
}

impl fmt::Display for Ago {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secs = (self.now - self.t).num_seconds().max(0);
        let (n, unit) = match secs {
            0..=59 => return f.write_str("just now"),
            60..=3599 => (secs / 60, "minute"),
            3600..=86_399 => (secs / 3600, "hour"),
            86_400..=2_591_999 => (secs / 86_400, "day"),
            _ => return Day(self.t).fmt(f),
        };
        if n == 1 {
            write!(f, "1 {unit} ago")
        } else {
            write!(f, "{n} {unit}s ago")
        }
    }
}

/// "just now", "5 minutes ago", "3 hours ago", "2 days ago", or the date for older times.
pub fn ago(t: NaiveDateTime, now: NaiveDateTime) -> String {
    Ago { t, now }.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeDelta;

    #[test]
    fn dates_are_written_as_chrono_formats_them() {
        let samples = [
            (2026, 11, 22, 10, 3, 0),
            (2026, 1, 1, 0, 0, 0),
            (2024, 2, 29, 23, 59, 59),
            (1999, 12, 31, 9, 5, 7),
            (1, 3, 4, 5, 6, 7),
            (9999, 12, 31, 23, 59, 59),
            (10000, 1, 1, 0, 0, 0),
            (-44, 3, 15, 12, 0, 0),
        ];
        for (y, mo, d, h, mi, sec) in samples {
            let t = chrono::NaiveDate::from_ymd_opt(y, mo, d)
                .and_then(|day| day.and_hms_opt(h, mi, sec))
                .unwrap();
            let when = When::new(t);
            let utc = t.and_utc();
            assert_eq!(
                when.iso().to_string(),
                utc.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
            );
            assert_eq!(when.date().to_string(), t.format("%-d %B %Y").to_string());
            assert_eq!(
                when.full().to_string(),
                t.format("%-d %B %Y at %H:%M UTC").to_string()
            );
            if Utc::now().naive_utc() - t > TimeDelta::days(30) {
                assert_eq!(
                    when.ago().to_string(),
                    when.date().to_string(),
                    "long ago: the date"
                );
            }
        }
    }

    #[test]
    fn relative_times_read_naturally() {
        let now = Utc::now().naive_utc();
        assert_eq!(ago(now, now), "just now");
        assert_eq!(ago(now - TimeDelta::minutes(1), now), "1 minute ago");
        assert_eq!(ago(now - TimeDelta::hours(3), now), "3 hours ago");
        assert_eq!(ago(now - TimeDelta::days(2), now), "2 days ago");
        let old = now - TimeDelta::days(90);
        assert_eq!(ago(old, now), old.format("%-d %B %Y").to_string());
    }
}
