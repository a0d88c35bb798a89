//! `assetc report`: placeholder.
use std::process::ExitCode;
pub fn run(
    _args: crate::cli::ReportArgs,
    _config: &crate::config::Config,
) -> anyhow::Result<ExitCode> {
    Ok(ExitCode::SUCCESS)
}
