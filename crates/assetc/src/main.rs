//! The `assetc` command: parse the command line, run one command, map the outcome to an
//! exit code (0 success, 1 failure, 2 usage error). Only this crate prints or exits.

mod build_cmd;
mod cli;
mod config;
mod maintain_cmd;
mod serve;
mod ui;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    let result = config::Config::load(cli.config.as_deref()).and_then(|config| match cli.command {
        cli::Command::Build(args) => build_cmd::run(args, &config),
        cli::Command::Verify(args) => maintain_cmd::verify(args, &config),
        cli::Command::Clean(args) => maintain_cmd::clean(args, &config),
        cli::Command::Serve(args) => serve::run(args, &config).map(|()| ExitCode::SUCCESS),
    });
    match result {
        Ok(code) => code,
        Err(error) => {
            ui::error(&format!("{error:#}"));
            ExitCode::FAILURE
        }
    }
}
