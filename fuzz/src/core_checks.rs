//! Properties of the core's URL references and logical paths, checked on any input: the fuzz
//! targets run them, and `crates/core/tests/fuzz_corpus.rs` includes this file to replay the
//! committed corpora on the stable toolchain.

use assetc_core::url_ref::{classify, encode_path, encode_segment, LocalRef, Reference};
use assetc_core::LogicalPath;

/// `url_ref::classify`: a local reference's parts put back together give the input; the path
/// holds no `?` or `#`; only ASCII whitespace is split off; scheme-relative references are
/// never local; a decoded path re-encodes to something that decodes to it; and a reference
/// rewritten to a new file name is still local, with the new name as its last segment and
/// its directory, query and fragment as written.
///
/// The input is the reference, then optionally `\n` and a new file name.
pub fn check_url_ref(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (raw, new_name) = text
        .split_once('\n')
        .unwrap_or((text, "a.Xk3p9Qa1bC-_.png"));
    let Reference::Local(local) = classify(raw) else {
        return;
    };
    check_local(raw, &local);
    if let Some(fragment) = local.with_encoded_fragment() {
        check_local(raw, &fragment);
    }
    // A file name is one non-empty segment.
    if new_name.is_empty() || new_name.contains('/') || matches!(new_name, "." | "..") {
        return;
    }
    let rewritten = local.with_file_name(new_name);
    let Reference::Local(new) = classify(&rewritten) else {
        panic!("{raw:?} with the file name {new_name:?} became {rewritten:?}, which is not local");
    };
    assert_eq!(new.suffix, local.suffix, "{raw:?} -> {rewritten:?}");
    assert_eq!(
        (new.leading, new.trailing),
        (local.leading, local.trailing),
        "{raw:?} -> {rewritten:?}"
    );
    let dir_end = local.path.rfind('/').map_or(0, |i| i + 1);
    assert_eq!(
        &new.path[..dir_end],
        &local.path[..dir_end],
        "{rewritten:?}"
    );
    if let Ok(decoded) = new.decoded_path() {
        assert!(
            decoded.ends_with(new_name),
            "{raw:?} with the file name {new_name:?} became {rewritten:?}, decoding to {decoded:?}"
        );
    }
}

fn check_local(raw: &str, local: &LocalRef<'_>) {
    assert_eq!(
        format!("{}{}{}", local.leading, local.trimmed, local.trailing),
        raw
    );
    assert_eq!(format!("{}{}", local.path, local.suffix), local.trimmed);
    assert!(!local.path.contains(['?', '#']), "{raw:?}");
    assert!(
        local.suffix.is_empty() || local.suffix.starts_with(['?', '#', '%']),
        "{raw:?}"
    );
    assert!(local.leading.chars().all(|c| c.is_ascii_whitespace()));
    assert!(local.trailing.chars().all(|c| c.is_ascii_whitespace()));
    assert!(!local.trimmed.is_empty(), "{raw:?}");
    let head: String = local
        .trimmed
        .chars()
        .take(2)
        .map(|c| if c == '\\' { '/' } else { c })
        .collect();
    assert_ne!(head, "//", "{raw:?} is scheme-relative, not local");
    if let Ok(decoded) = local.decoded_path() {
        let reencoded = encode_path(&decoded);
        let back = assetc_core::url_ref::classify(&reencoded);
        if !decoded.is_empty() {
            match back {
                Reference::Local(l) => assert_eq!(
                    l.decoded_path().as_deref(),
                    Ok(decoded.as_str()),
                    "{raw:?} decoded to {decoded:?}, re-encoded as {reencoded:?}"
                ),
                Reference::Untouchable => {
                    // Only a path that starts a scheme or `//` can stop being local.
                    assert!(
                        reencoded.contains(':') || reencoded.starts_with("//"),
                        "{raw:?} decoded to {decoded:?}, re-encoded as {reencoded:?}"
                    );
                }
            }
        }
        for segment in decoded.split('/') {
            assert!(
                !encode_segment(segment).contains('/'),
                "{segment:?} encoded with a separator"
            );
        }
    }
}

/// `LogicalPath::resolve`: a resolved path is always a normal logical path (no empty, `.` or
/// `..` segment, no `\`), never leaves the root, does not depend on the base when the
/// reference is root-relative, and resolves to itself root-relatively.
///
/// The input is a base path, `\n`, and a reference.
pub fn check_logical_path(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (base, reference) = text.split_once('\n').unwrap_or(("index.html", text));
    let Ok(base) = LogicalPath::new(base) else {
        return;
    };
    let root = LogicalPath::new("index.html").expect("a logical path");
    let Ok(resolved) = base.resolve(reference) else {
        return;
    };
    assert_eq!(
        LogicalPath::new(resolved.as_str()).as_ref(),
        Ok(&resolved),
        "{reference:?} from {base} resolved to a path that is not normal: {resolved:?}"
    );
    assert_eq!(
        root.resolve(&format!("/{resolved}")).as_ref(),
        Ok(&resolved),
        "{resolved} does not resolve to itself"
    );
    if reference.starts_with('/') {
        assert_eq!(
            root.resolve(reference).as_ref(),
            Ok(&resolved),
            "{reference:?}"
        );
    }
    if !reference.contains("..") && !reference.starts_with('/') && !base.dir().is_empty() {
        assert!(
            resolved.as_str().starts_with(&format!("{}/", base.dir())),
            "{reference:?} from {base} left its directory: {resolved}"
        );
    }
}
