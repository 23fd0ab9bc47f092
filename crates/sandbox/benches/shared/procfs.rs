//! CPU time and memory of a process from `/proc`: this one (`"self"`) or a child's
//! (its pid). Shared by the benchmarks that include it (`deploys`, `scale`).

use std::time::Duration;

use anyhow::Context;

/// User plus system CPU time of `process` (`"self"` or a pid), every thread.
pub fn cpu_time(process: &str) -> anyhow::Result<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{process}/stat"))?;
    // Fields after the parenthesised command name; utime and stime are fields 14, 15.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .context("malformed /proc/<pid>/stat")?
        .1
        .split_whitespace()
        .collect();
    let ticks: u64 = fields[11].parse::<u64>()? + fields[12].parse::<u64>()?;
    // /proc counts in USER_HZ, which Linux fixes at 100 for user space.
    Ok(Duration::from_millis(ticks * 10))
}

/// A `/proc/<process>/status` figure in MiB (`VmRSS` now, `VmHWM` the peak).
pub fn memory_mib(process: &str, field: &str) -> anyhow::Result<f64> {
    let status = std::fs::read_to_string(format!("/proc/{process}/status"))?;
    let line = status
        .lines()
        .find(|line| line.starts_with(field))
        .with_context(|| format!("no {field} in /proc/{process}/status"))?;
    let kib: f64 = line
        .split_whitespace()
        .nth(1)
        .context("malformed /proc/<pid>/status")?
        .parse()?;
    Ok(kib / 1024.0)
}

/// Starts this process's `VmHWM` again from its current resident size.
pub fn reset_peak_memory() -> anyhow::Result<()> {
    std::fs::write("/proc/self/clear_refs", "5").context("cannot reset VmHWM")
}
