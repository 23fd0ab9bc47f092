//! libFuzzer target: see `checks::slack_signature`.
#![no_main]

#[path = "../checks.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::slack_signature(data));
