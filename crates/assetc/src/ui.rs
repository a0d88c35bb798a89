//! Messages on stderr: `error:` and `warning:` prefixes, coloured only on a terminal and
//! only when `NO_COLOR` is unset.

use std::io::IsTerminal;

fn color() -> bool {
    std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()) && std::io::stderr().is_terminal()
}

fn prefixed(prefix: &str, ansi: &str, message: &str) {
    if color() {
        eprintln!("\x1b[1;{ansi}m{prefix}:\x1b[0m {message}");
    } else {
        eprintln!("{prefix}: {message}");
    }
}

pub fn error(message: &str) {
    prefixed("error", "31", message);
}

pub fn warning(message: &str) {
    prefixed("warning", "33", message);
}

/// Human-readable byte count.
pub fn bytes(n: u64) -> String {
    const UNITS: [&str; 4] = ["B", "KiB", "MiB", "GiB"];
    let mut value = n as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}
