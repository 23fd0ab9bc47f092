//! "Did you mean ...?": the closest known word to a mistyped one.

/// Words longer than this are not typos of any command, stage or keyword; skipping them
/// keeps a pasted wall of text from costing a quadratic edit-distance computation.
const MAX_WORD_CHARS: usize = 32;

/// The candidate closest to `word` (case-insensitive) by Damerau-Levenshtein distance
/// (a swap of two letters counts as one edit), if it is close enough to be a typo;
/// ties go to the earlier candidate.
pub(super) fn closest<'c>(
    word: &str,
    candidates: impl IntoIterator<Item = &'c str>,
) -> Option<&'c str> {
    if word.chars().nth(MAX_WORD_CHARS).is_some() {
        return None;
    }
    let word = word.to_lowercase();
    candidates
        .into_iter()
        .map(|candidate| (strsim::damerau_levenshtein(&word, candidate), candidate))
        .filter(|&(distance, candidate)| distance <= max_distance(candidate))
        .min_by_key(|&(distance, _)| distance)
        .map(|(_, candidate)| candidate)
}

/// Two edits turn most short words into each other (`ok` -> `lock`), so short
/// candidates allow only one.
fn max_distance(candidate: &str) -> usize {
    if candidate.chars().count() <= 4 { 1 } else { 2 }
}

#[cfg(test)]
mod tests {
    use super::closest;

    const WORDS: [&str; 4] = ["deploy", "promote", "lock", "to"];

    #[test]
    fn typos_find_their_word() {
        assert_eq!(closest("deplyo", WORDS), Some("deploy"));
        assert_eq!(closest("DEPOLY", WORDS), Some("deploy"));
        assert_eq!(closest("promot", WORDS), Some("promote"));
        assert_eq!(closest("ot", WORDS), Some("to"));
        assert_eq!(closest("lokc", WORDS), Some("lock"));
    }

    #[test]
    fn unrelated_words_find_nothing() {
        assert_eq!(closest("ok", WORDS), None);
        assert_eq!(closest("frobnicate", WORDS), None);
        assert_eq!(closest(&"deploy".repeat(10), WORDS), None);
    }
}
