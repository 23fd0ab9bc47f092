//! Identifiers and timestamps the fake mints: UUIDs (stable ones for the seeded world,
//! random ones afterwards), commit shas, tokens, and RFC 3339 times.

use std::time::{SystemTime, UNIX_EPOCH};

use sha2::{Digest, Sha256};

/// A random version-4 UUID.
pub(super) fn new_id() -> String {
    let mut bytes = [0u8; 16];
    bytes.iter_mut().for_each(|byte| *byte = fastrand::u8(..));
    uuid(bytes)
}

/// A UUID that is the same on every run for the same `label`, so the seeded world's
/// ids can be written down.
pub(super) fn seeded_id(label: &str) -> String {
    let digest = Sha256::digest(label.as_bytes());
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    uuid(bytes)
}

/// A 40-hex commit sha, stable for `label`.
pub(super) fn seeded_sha(label: &str) -> String {
    hex::encode(&Sha256::digest(label.as_bytes())[..20])
}

/// An opaque secret shaped like Heroku's (`HRKU-` + 60 characters).
pub(super) fn secret(prefix: &str) -> String {
    let body: String = std::iter::repeat_with(fastrand::alphanumeric)
        .take(60)
        .collect();
    format!("{prefix}{body}")
}

/// The first seven characters of a commit sha, as release descriptions show it.
pub(super) fn short_sha(sha: Option<&str>) -> String {
    sha.map(|sha| sha.chars().take(7).collect())
        .unwrap_or_default()
}

fn uuid(mut bytes: [u8; 16]) -> String {
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let hex = hex::encode(bytes);
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}

/// Now, in Unix seconds.
pub(super) fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs() as i64)
}

/// `2024-05-01T12:00:00Z` for a Unix time.
pub(super) fn rfc3339(unix: i64) -> String {
    let (days, seconds) = (unix.div_euclid(86_400), unix.rem_euclid(86_400));
    let (year, month, day) = civil_from_days(days);
    let (hour, minute, second) = (seconds / 3600, seconds % 3600 / 60, seconds % 60);
    format!("{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}Z")
}

/// Days since 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_rfc3339_utc() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_709_283_600), "2024-03-01T09:00:00Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
    }

    #[test]
    fn ids_are_uuid_v4_shaped_and_seeded_ones_are_stable() {
        let id = new_id();
        assert_eq!(id.len(), 36);
        assert_eq!(&id[14..15], "4");
        assert_eq!(
            seeded_id("app:paipu-app-staging"),
            seeded_id("app:paipu-app-staging")
        );
        assert_ne!(seeded_id("a"), seeded_id("b"));
        assert_eq!(seeded_sha("x").len(), 40);
        assert!(secret("HRKU-").starts_with("HRKU-"));
    }
}
