//! libFuzzer target: see `checks::slash_form`.
#![no_main]

#[path = "../checks.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::slash_form(data));
