//! How the bot writes shas, times of day and durations, the same in every message.

/// The first 8 characters of a sha, as Heroku ChatOps shows them.
pub fn short_sha(sha: &str) -> &str {
    sha.get(..8).unwrap_or(sha)
}

/// `14:02`: the UTC time of day of a Unix-millisecond time.
pub fn clock_time(ms: i64) -> String {
    let minutes = ms.div_euclid(60_000).rem_euclid(24 * 60);
    format!("{:02}:{:02}", minutes / 60, minutes % 60)
}

/// Whole seconds between two Unix-millisecond times, e.g. `43s`, `2m 5s`.
pub fn duration(from_ms: i64, to_ms: i64) -> String {
    let secs = (to_ms - from_ms).max(0) / 1000;
    match secs {
        0..=59 => format!("{secs}s"),
        _ => format!("{}m {}s", secs / 60, secs % 60),
    }
}

/// `1st`, `2nd`, `3rd`, `4th`, ..., `11th`, `21st`.
pub fn ordinal(n: usize) -> String {
    let suffix = match (n % 10, n % 100) {
        (_, 11..=13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    format!("{n}{suffix}")
}
