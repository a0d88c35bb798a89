//! assetc's build: walk the input, find references, name files by content, write atomically.

pub mod text_ref;
