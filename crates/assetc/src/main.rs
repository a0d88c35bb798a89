//! The `assetc` command: parse the command line, run one command, map the outcome to an
//! exit code (0 success, 1 failure, 2 usage error). Only this crate prints or exits.

mod cli;
mod cmd;
mod config;
#[cfg(feature = "publish")]
mod publish;
mod settings;
mod ui;
mod units;

use std::process::ExitCode;

use clap::Parser;

/// mimalloc rather than the system's allocator: loading a 100,000-file build makes and
/// frees millions of small strings and maps across threads, and glibc's malloc was a fifth
/// of that start-up's profile (its free lists, consolidation and arena locks).
#[cfg(not(feature = "system-allocator"))]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    #[cfg(not(feature = "system-allocator"))]
    assetc_server::Build::release_memory_with(release_free_memory);
    ignore_file_size_signal();
    settings::raise_open_file_limit();
    let cli = cli::Cli::parse();
    let result = config::Config::load(cli.config.as_deref()).and_then(|config| match cli.command {
        cli::Command::Build(args) => {
            #[cfg(not(feature = "system-allocator"))]
            purge_freed_memory_promptly();
            cmd::build::run(args, &config)
        }
        cli::Command::Dev(args) => cmd::dev::run(args, &config),
        cli::Command::Verify(args) => cmd::maintain::verify(args, &config),
        cli::Command::Clean(args) => cmd::maintain::clean(args, &config),
        cli::Command::Explain(args) => cmd::explain::run(args, &config),
        cli::Command::Report(args) => cmd::report::run(args, &config),
        #[cfg(feature = "publish")]
        cli::Command::Publish(args) => cmd::publish::run(args, &config),
        cli::Command::Serve(args) => cmd::serve::run(args, &config).map(|()| ExitCode::SUCCESS),
    });
    match result {
        Ok(code) => code,
        Err(error) => {
            ui::report(&error);
            ExitCode::FAILURE
        }
    }
}

/// Returns the pages mimalloc holds free to the system: after a load, the manifests'
/// parsed form (most of its peak) is free but still resident until purged.
#[cfg(not(feature = "system-allocator"))]
fn release_free_memory() {
    // mimalloc's own API (`mimalloc.h`), linked in with the allocator.
    #[allow(unsafe_code)]
    extern "C" {
        fn mi_collect(force: bool);
    }
    // SAFETY: mi_collect only frees and purges memory the allocator holds unused.
    #[allow(unsafe_code)]
    unsafe {
        mi_collect(true);
    }
}

/// mimalloc's `mi_option_purge_delay` (its index in `mi_option_e`, v2 and v3 alike; the
/// `tests` below check it against the option's default).
#[cfg(not(feature = "system-allocator"))]
const MI_OPTION_PURGE_DELAY: std::ffi::c_int = 15;

/// Has mimalloc return freed pages to the system after 1 ms instead of a second (v3's
/// default, `src/options.c`): a build frees each phase's working set (the previous
/// manifest's JSON, each file read) while the next phase allocates, and with the default
/// delay those pages were still resident at the peak: 296 MB against 254 MB for a no-op
/// rebuild of 100,000 files, at the same speed.
#[cfg(not(feature = "system-allocator"))]
fn purge_freed_memory_promptly() {
    #[allow(unsafe_code)]
    extern "C" {
        fn mi_option_set(option: std::ffi::c_int, value: std::ffi::c_long);
    }
    // SAFETY: setting an option only changes when mimalloc purges; any value is valid.
    #[allow(unsafe_code)]
    unsafe {
        mi_option_set(MI_OPTION_PURGE_DELAY, 1);
    }
}

/// A file-size limit (`ulimit -f`) must fail a write with `EFBIG`, reported as an error
/// naming the file, instead of killing the process with SIGXFSZ.
fn ignore_file_size_signal() {
    #[cfg(unix)]
    // SAFETY: setting a signal's disposition to SIG_IGN installs no handler code and
    // happens before any thread is started.
    #[allow(unsafe_code)]
    unsafe {
        libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
    }
}

#[cfg(all(test, not(feature = "system-allocator")))]
mod tests {
    #[allow(unsafe_code)]
    extern "C" {
        fn mi_option_get(option: std::ffi::c_int) -> std::ffi::c_long;
    }

    #[test]
    fn the_purge_delay_option_is_the_one_with_its_documented_default() {
        // SAFETY: reading an option has no effect.
        #[allow(unsafe_code)]
        let delay = unsafe { mi_option_get(super::MI_OPTION_PURGE_DELAY) };
        // mimalloc v3's `src/options.c`: `{ 1000, ..., purge_delay }` (the header's "=10" is
        // v2's); the options on either side of it default to 0.
        assert_eq!(delay, 1000);
    }
}
