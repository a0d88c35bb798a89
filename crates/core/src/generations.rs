//! The record of kept build generations (`.assetc/generations.json`): which builds' files
//! the output still holds, so that pages from a previous release keep loading during a
//! rolling deploy, and `clean` and `verify` know what belongs.

use serde::{Deserialize, Serialize};

/// assetc's own directory in a build: never served.
pub const STATE_DIR: &str = ".assetc";

/// The generations record, relative to the build root.
pub const GENERATIONS_FILE: &str = ".assetc/generations.json";

/// Where a generation's manifest is kept, relative to the build root.
pub fn generation_manifest_path(id: &str) -> String {
    format!("{STATE_DIR}/generations/{id}.json")
}

/// All kept generations, newest first.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Generations {
    pub generations: Vec<Generation>,
}

/// One build that the output still holds the files of.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Generation {
    /// Wall-clock time the build ran, in seconds since the Unix epoch (not
    /// `SOURCE_DATE_EPOCH`: retention is about real time).
    pub built_at: i64,
    /// What produced the variants (codings and thresholds): files are only reused by a
    /// later build with the same key.
    pub config: String,
    /// The fingerprint of its manifest.
    pub id: String,
}

impl Generations {
    pub fn to_json(&self) -> Vec<u8> {
        let mut out = serde_json::to_vec_pretty(self).expect("generations always serialise");
        out.push(b'\n');
        out
    }

    pub fn from_json(bytes: &[u8]) -> Result<Self, serde_json::Error> {
        serde_json::from_slice(bytes)
    }
}

/// The generations to keep, newest first: the newest `keep`, any younger than `keep_age`
/// seconds at `now`, and always the newest one.
pub fn retain(
    generations: Vec<Generation>,
    now: i64,
    keep: usize,
    keep_age: i64,
) -> Vec<Generation> {
    generations
        .into_iter()
        .enumerate()
        .filter(|(i, g)| *i == 0 || *i < keep || now - g.built_at < keep_age)
        .map(|(_, g)| g)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retention_keeps_the_newest_n_and_the_young() {
        let g = |id: &str, built_at| Generation {
            built_at,
            id: id.into(),
            config: String::new(),
        };
        let all = vec![
            g("e", 10_000),
            g("d", 9_000),
            g("c", 8_000),
            g("b", 7_000),
            g("a", 1_000),
        ];
        let ids = |v: Vec<Generation>| v.into_iter().map(|g| g.id).collect::<Vec<_>>();
        assert_eq!(
            ids(retain(all.clone(), 10_000, 2, 3600)),
            ["e", "d", "c", "b"]
        );
        assert_eq!(ids(retain(all.clone(), 100_000, 2, 3600)), ["e", "d"]);
        assert_eq!(
            ids(retain(all.clone(), 100_000, 0, 0)),
            ["e"],
            "the newest is always kept"
        );
        assert_eq!(ids(retain(all, 100_000, 10, 0)).len(), 5);
    }
}
