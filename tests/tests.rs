//! End-to-end tests: the real `assetc` binary on trees written into temp dirs, checked
//! through its output files and, for the server, over real sockets with real clients.

mod build;
mod common;
mod compression;
mod deploys;
mod dev;
mod faults;
mod hostile;
mod realworld;
mod references;
mod serve;
