//! The fuzz targets' checks (fuzz/checks.rs), replayed on the kept seed corpus and on
//! every input that ever made a target fail (`fuzz/regressions/<target>/`), so a
//! crash once found by `fuzz/ci.sh` stays fixed without libFuzzer in the loop.

#[path = "../../fuzz/checks.rs"]
mod checks;

use std::path::Path;

/// Every file under `dir`, or none if it does not exist.
fn inputs(dir: &Path) -> Vec<std::path::PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<_> = entries
        .map(|entry| entry.expect("a readable corpus entry").path())
        .filter(|path| path.is_file())
        .collect();
    files.sort();
    files
}

#[test]
fn every_kept_fuzz_input_passes_its_check() {
    let fuzz = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    for (target, check) in checks::TARGETS {
        let seeds = inputs(&fuzz.join("corpus").join(target));
        assert!(!seeds.is_empty(), "{target} has a seed corpus");
        for input in seeds
            .iter()
            .chain(&inputs(&fuzz.join("regressions").join(target)))
        {
            let data = std::fs::read(input).expect("a readable input");
            let checked = std::panic::catch_unwind(|| check(&data));
            assert!(checked.is_ok(), "{target} fails on {}", input.display());
        }
    }
}
