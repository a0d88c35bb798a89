//! A `BTreeMap` deserialised in one go: its pairs collected, then built bottom-up.
//!
//! Inserting keys one by one in ascending order (how a manifest's sorted JSON arrives)
//! leaves every node of a `BTreeMap` half full, since a full node splits in the middle and
//! the left half is never touched again; at 100,000 entries that is 20 MB of empty slots.
//! `BTreeMap::from_iter` sorts the pairs and fills each node, the map the same.

use std::collections::BTreeMap;
use std::fmt;
use std::marker::PhantomData;

use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};

/// `#[serde(deserialize_with = "sorted_map::deserialize")]` for a `BTreeMap` field. As
/// with serde's own, a key given twice keeps its last value.
pub fn deserialize<'de, D, K, V>(deserializer: D) -> Result<BTreeMap<K, V>, D::Error>
where
    D: Deserializer<'de>,
    K: Deserialize<'de> + Ord,
    V: Deserialize<'de>,
{
    struct Pairs<K, V>(PhantomData<(K, V)>);
    impl<'de, K: Deserialize<'de> + Ord, V: Deserialize<'de>> Visitor<'de> for Pairs<K, V> {
        type Value = BTreeMap<K, V>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a map")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut pairs = Vec::with_capacity(map.size_hint().unwrap_or(0).min(4096));
            while let Some(pair) = map.next_entry()? {
                pairs.push(pair);
            }
            Ok(pairs.into_iter().collect())
        }
    }
    deserializer.deserialize_map(Pairs(PhantomData))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize)]
    struct Holder {
        #[serde(deserialize_with = "deserialize")]
        map: BTreeMap<String, u32>,
    }

    #[test]
    fn a_map_reads_as_serde_reads_it_with_the_last_of_a_repeated_key() {
        let json = r#"{"map": {"b": 2, "a": 1, "c": 3, "a": 4}}"#;
        let ours = serde_json::from_str::<Holder>(json).unwrap().map;
        let serdes: BTreeMap<String, u32> =
            serde_json::from_str(r#"{"b": 2, "a": 1, "c": 3, "a": 4}"#).unwrap();
        assert_eq!(ours, serdes);
        assert_eq!(
            ours.into_iter().collect::<Vec<_>>(),
            [("a".into(), 4), ("b".into(), 2), ("c".into(), 3)]
        );
        assert!(serde_json::from_str::<Holder>(r#"{"map": [1]}"#).is_err());
    }
}
