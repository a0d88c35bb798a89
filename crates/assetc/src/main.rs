//! The `assetc` command: parse the command line, run one command, map the outcome to an
//! exit code (0 success, 1 failure, 2 usage error). Only this crate prints or exits.

mod cli;
mod cmd;
mod config;
mod settings;
mod ui;
mod units;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    ignore_file_size_signal();
    raise_open_file_limit();
    let cli = cli::Cli::parse();
    let result = config::Config::load(cli.config.as_deref()).and_then(|config| match cli.command {
        cli::Command::Build(args) => cmd::build::run(args, &config),
        cli::Command::Dev(args) => cmd::dev::run(args, &config),
        cli::Command::Verify(args) => cmd::maintain::verify(args, &config),
        cli::Command::Clean(args) => cmd::maintain::clean(args, &config),
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

/// The server keeps a descriptor open for every file it does not hold in memory, and the
/// build works on many files at once: raise the soft open-file limit to the hard one.
fn raise_open_file_limit() {
    #[cfg(unix)]
    // SAFETY: getrlimit/setrlimit only read and write the struct passed to them.
    #[allow(unsafe_code)]
    unsafe {
        let mut limit = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) == 0 && limit.rlim_cur < limit.rlim_max
        {
            limit.rlim_cur = limit.rlim_max;
            libc::setrlimit(libc::RLIMIT_NOFILE, &limit);
        }
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
