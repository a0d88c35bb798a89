//! assetc's pure core: logical paths, URL references, fingerprint naming, content types,
//! validators and the manifest model. It does no IO and knows nothing of HTTP servers.

pub mod coding;
pub mod content_type;
pub mod fingerprint;
pub mod generations;
pub mod logical_path;
pub mod manifest;
pub mod sorted_map;
pub mod url_ref;

pub use coding::{Coding, DictCoding};
pub use fingerprint::{fingerprint, fingerprinted_name, strong_etag, Digest, FINGERPRINT_LEN};
pub use logical_path::{LogicalPath, LogicalPathError};
pub use manifest::{Entry, Manifest, Variant, MANIFEST_FILE_NAME, MANIFEST_VERSION};
