//! `assetc publish`'s two halves, apart: `plan` (pure: the build's wanted objects against
//! the bucket's, in the order that never breaks a page) and `store` (the S3 calls, with
//! `profile`, the AWS shared-config profiles object_store does not read). The command that
//! runs one after the other is `cmd/publish.rs`.

pub mod plan;
pub mod profile;
pub mod store;
