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

/// Prints an error and its causes on one `error:` line, each cause once, and the hints
/// that any of them carries (`…; hint: …`, the libraries' one hint style) on `hint:` lines
/// after it, so that a hint never sits between a message and its cause.
pub fn report(failure: &anyhow::Error) {
    let mut messages = Vec::new();
    let mut hints = Vec::new();
    for cause in failure.chain() {
        let text = cause.to_string();
        match text.split_once("; hint: ") {
            Some((message, hint)) => {
                messages.push(message.to_owned());
                hints.push(hint.to_owned());
            }
            None => messages.push(text),
        }
    }
    error(&messages.join(": "));
    for hint in hints {
        prefixed("hint", "36", &hint);
    }
}

pub fn warning(message: &str) {
    prefixed("warning", "33", message);
}

/// Something that may be fine but deserves a look; never fails `--strict`.
pub fn note(message: &str) {
    prefixed("note", "36", message);
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

/// A bar counting `total` requests: drawn on stderr only when `enabled` and stderr is a
/// terminal.
#[cfg(feature = "publish")]
pub fn counter(total: u64, enabled: bool) -> indicatif::ProgressBar {
    if !(enabled && std::io::stderr().is_terminal()) {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(total);
    let style =
        indicatif::ProgressStyle::with_template("{prefix:>8} [{bar:30}] {pos}/{len} {elapsed}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
            .progress_chars("=> ");
    bar.set_style(style);
    bar.set_prefix("publish");
    bar
}

/// A progress bar for long builds: drawn on stderr only when it is a terminal, and only
/// once a build has run for more than half a second, so quick builds print nothing extra.
pub struct BuildProgress {
    bar: indicatif::ProgressBar,
    started: std::time::Instant,
    enabled: bool,
    shown: std::sync::atomic::AtomicBool,
}

impl BuildProgress {
    pub fn new(enabled: bool) -> Self {
        let bar = indicatif::ProgressBar::hidden();
        let style = indicatif::ProgressStyle::with_template(
            "{prefix:>8} [{bar:30}] {pos}/{len} files {elapsed}",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
        .progress_chars("=> ");
        bar.set_style(style);
        Self {
            bar,
            started: std::time::Instant::now(),
            enabled: enabled && std::io::stderr().is_terminal(),
            shown: std::sync::atomic::AtomicBool::new(false),
        }
    }

    fn maybe_show(&self) {
        use std::sync::atomic::Ordering;
        if self.enabled
            && !self.shown.load(Ordering::Relaxed)
            && self.started.elapsed() > std::time::Duration::from_millis(500)
            && !self.shown.swap(true, Ordering::Relaxed)
        {
            self.bar
                .set_draw_target(indicatif::ProgressDrawTarget::stderr_with_hz(10));
        }
    }

    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

impl assetc_pipeline::Progress for BuildProgress {
    fn phase(&self, name: &'static str, total: u64) {
        self.bar.set_prefix(name);
        self.bar.set_length(total);
        self.bar.set_position(0);
        self.maybe_show();
    }

    fn advance(&self, n: u64) {
        self.bar.inc(n);
        self.maybe_show();
    }
}
