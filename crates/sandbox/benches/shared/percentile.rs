//! Percentiles of a benchmark's samples. Shared by the benchmarks that include it
//! (`deploys`, `scale`).

/// The `q` quantile of `sorted` by nearest rank (below 100 samples, p99 is the
/// largest); NaN when there is no sample.
pub fn rank(sorted: &[f64], q: f64) -> f64 {
    let at = (sorted.len() as f64 * q).ceil() as usize;
    sorted
        .get(at.clamp(1, sorted.len().max(1)) - 1)
        .copied()
        .unwrap_or(f64::NAN)
}
