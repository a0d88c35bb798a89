//! One duration syntax for every flag and key that takes one (`--keep-age`, `clean --age`,
//! `--watch-interval`): a whole number with a unit, `250ms`, `90s`, `30m`, `1h`, `2d`,
//! `1w`, or a bare number of seconds.

use std::time::Duration;

use anyhow::{bail, Context};

/// Parses `text` as a duration.
pub fn parse_duration(text: &str) -> anyhow::Result<Duration> {
    let text = text.trim();
    let invalid =
        || format!("invalid duration `{text}`; hint: write e.g. `250ms`, `90s`, `30m`, `1h`, `2d`");
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let n: u64 = number.parse().with_context(invalid)?;
    let seconds = |scale: u64| Duration::from_secs(n.saturating_mul(scale));
    Ok(match unit.trim() {
        "ms" => Duration::from_millis(n),
        "" | "s" => seconds(1),
        "m" => seconds(60),
        "h" => seconds(3600),
        "d" => seconds(86_400),
        "w" => seconds(604_800),
        _ => bail!(invalid()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        let secs = |t: &str| parse_duration(t).unwrap().as_secs();
        assert_eq!(secs("90s"), 90);
        assert_eq!(secs("30m"), 1800);
        assert_eq!(secs("1h"), 3600);
        assert_eq!(secs("2d"), 172_800);
        assert_eq!(secs("1w"), 604_800);
        assert_eq!(secs(" 45 "), 45);
        assert_eq!(parse_duration("250ms").unwrap(), Duration::from_millis(250));
        for bad in ["", "ms", "h", "1y", "-1s", "1.5s"] {
            let err = parse_duration(bad).unwrap_err();
            assert!(
                format!("{err:#}").contains("invalid duration"),
                "{bad}: {err:#}"
            );
        }
    }
}
