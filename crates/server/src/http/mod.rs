//! The HTTP rules the server follows, as pure functions over header bytes: no actix
//! service, no IO, no clock. Each module is one part of RFC 9110: `date` (§5.6.7),
//! `etag` (§8.8.3, §13.1), `negotiate` (§12.5.3), `range` (§14), `path` (request targets,
//! §4.2 and §17.3) and `decide` (§13.2.2: the order preconditions and ranges are evaluated);
//! `dictionary` is RFC 9842's fields (Compression Dictionary Transport).

pub mod date;
pub mod decide;
pub mod dictionary;
pub mod etag;
pub mod negotiate;
pub mod path;
pub mod range;
