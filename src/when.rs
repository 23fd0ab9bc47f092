//! Times as Heroku and GitHub write them (`2024-03-01T09:00:00Z`) and as people
//! read them (`3h ago`). Only UTC timestamps are read: that is all both APIs send.

/// Unix milliseconds of an RFC 3339 UTC time (`YYYY-MM-DDTHH:MM:SS[.fff]Z`).
pub fn parse_utc(stamp: &str) -> Option<i64> {
    let stamp = stamp.strip_suffix('Z')?;
    let (date, time) = stamp.split_once('T')?;
    let mut date = date.splitn(3, '-').map(str::parse::<i64>);
    let (year, month, day) = (date.next()?.ok()?, date.next()?.ok()?, date.next()?.ok()?);
    let time = time.split('.').next()?;
    let mut time = time.splitn(3, ':').map(str::parse::<i64>);
    let (hour, minute, second) = (time.next()?.ok()?, time.next()?.ok()?, time.next()?.ok()?);
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || minute > 59 {
        return None;
    }
    let days = days_from_civil(year, month, day);
    Some(((days * 24 + hour) * 60 + minute) * 60_000 + second * 1000)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let day_of_year = (153 * ((month + 9) % 12) + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// How long before `now` (both Unix milliseconds) `then` was: `just now`, `12m ago`,
/// `5h ago` (up to two days), `9d ago`.
pub fn ago(then: i64, now: i64) -> String {
    let minutes = (now - then).max(0) / 60_000;
    match minutes {
        0 => "just now".into(),
        1..=59 => format!("{minutes}m ago"),
        60..=2879 => format!("{}h ago", minutes / 60),
        _ => format!("{}d ago", minutes / (24 * 60)),
    }
}

/// [`ago`] of a Heroku timestamp; `at an unknown time` if it does not read.
pub fn ago_of(stamp: &str, now: i64) -> String {
    parse_utc(stamp).map_or_else(|| "at an unknown time".into(), |then| ago(then, now))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heroku_timestamps_read_as_unix_milliseconds() {
        assert_eq!(parse_utc("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse_utc("2024-03-01T09:00:00Z"), Some(1_709_283_600_000));
        assert_eq!(
            parse_utc("2024-03-01T09:00:00.250Z"),
            Some(1_709_283_600_000)
        );
        assert_eq!(parse_utc("2024-03-01 09:00:00"), None);
        assert_eq!(parse_utc("2024-13-01T09:00:00Z"), None);
    }

    #[test]
    fn ages_are_coarse_and_never_negative() {
        let hour = 3_600_000;
        assert_eq!(ago(0, 59_999), "just now");
        assert_eq!(ago(0, 12 * 60_000), "12m ago");
        assert_eq!(ago(0, 47 * hour), "47h ago");
        assert_eq!(ago(0, 49 * hour), "2d ago");
        assert_eq!(ago(10, 0), "just now");
    }
}
