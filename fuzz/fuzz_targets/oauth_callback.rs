//! libFuzzer target: see `checks::oauth_callback`.
#![no_main]

#[path = "../checks.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::oauth_callback(data));
