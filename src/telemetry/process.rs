//! Process metrics read from `/proc/self` at each scrape (CPU seconds, resident memory, open
//! and maximum file descriptors, start time), named as Prometheus' client libraries name them.

use std::sync::OnceLock;

/// Sets the `process_*` gauges from `/proc/self`; silently skips what cannot be read.
pub fn record() {
    // SAFETY: sysconf has no preconditions.
    let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as f64;
    // SAFETY: sysconf has no preconditions.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) }.max(1) as f64;
    if let Ok(stat) = std::fs::read_to_string("/proc/self/stat") {
        // Fields after the parenthesised command name, which may itself contain spaces.
        let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
        let f: Vec<&str> = rest.split_whitespace().collect();
        let num = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok());
        // man 5 proc: utime(14), stime(15), starttime(22), rss(24); `f[0]` is field 3.
        if let (Some(u), Some(s)) = (num(11), num(12)) {
            metrics::gauge!("process_cpu_seconds_total").set((u + s) / ticks);
        }
        if let Some(rss) = num(21) {
            metrics::gauge!("process_resident_memory_bytes").set(rss * page);
        }
        if let Some(start) = num(19) {
            metrics::gauge!("process_start_time_seconds").set(boot_time() + start / ticks);
        }
    }
    if let Ok(fds) = std::fs::read_dir("/proc/self/fd") {
        metrics::gauge!("process_open_fds").set(fds.count() as f64);
    }
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `limit` is a valid out-parameter.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } == 0 {
        metrics::gauge!("process_max_fds").set(limit.rlim_cur as f64);
    }
}

/// Boot time (Unix seconds) from `/proc/stat`'s `btime`.
fn boot_time() -> f64 {
    static BOOT: OnceLock<f64> = OnceLock::new();
    *BOOT.get_or_init(|| {
        std::fs::read_to_string("/proc/stat")
            .ok()
            .and_then(|s| {
                s.lines()
                    .find_map(|l| l.strip_prefix("btime "))
                    .and_then(|v| v.trim().parse().ok())
            })
            .unwrap_or(0.0)
    })
}
