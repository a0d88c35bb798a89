//! AWS shared configuration profiles (`~/.aws/credentials`, `~/.aws/config`, `AWS_PROFILE`,
//! `AWS_SHARED_CREDENTIALS_FILE`, `AWS_CONFIG_FILE`), which object_store does not read: the
//! static keys, the region and the endpoint of one profile. The format is the AWS CLI's INI
//! dialect (`[name]` in the credentials file, `[profile name]` or `[default]` in the config
//! file, `key = value`, `#` and `;` comments); the parsing is pure, the reading apart.

use std::collections::BTreeMap;
use std::path::PathBuf;

/// What a profile gives: each key as written (`aws_access_key_id`, `region`, ...).
pub type Profile = BTreeMap<String, String>;

/// The keys of section `[section]` in `text`, the later of two equal keys winning.
pub fn section(text: &str, wanted: &str) -> Option<Profile> {
    let mut found: Option<Profile> = None;
    let mut inside = false;
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            inside = name.trim() == wanted;
            if inside {
                found.get_or_insert_with(Profile::new);
            }
            continue;
        }
        if let (true, Some((key, value))) = (inside, line.split_once('=')) {
            if let Some(profile) = found.as_mut() {
                profile.insert(key.trim().to_owned(), value.trim().to_owned());
            }
        }
    }
    found
}

/// The profile `name` from both files' texts: the credentials file's section `[name]` over
/// the config file's `[profile name]` (`[default]` for the default profile).
pub fn merge(credentials: Option<&str>, config: Option<&str>, name: &str) -> Option<Profile> {
    let config_section = if name == "default" {
        "default".to_owned()
    } else {
        format!("profile {name}")
    };
    let from_config = config.and_then(|t| section(t, &config_section));
    let from_credentials = credentials.and_then(|t| section(t, name));
    match (from_config, from_credentials) {
        (None, None) => None,
        (config, credentials) => {
            let mut profile = config.unwrap_or_default();
            profile.extend(credentials.unwrap_or_default());
            Some(profile)
        }
    }
}

/// The profile the environment selects (`AWS_PROFILE`, else `default`) from the files it
/// names (or `~/.aws/`); None when neither file has it.
pub fn load() -> Option<(String, Profile)> {
    let env = |key: &str| std::env::var_os(key).filter(|v| !v.is_empty());
    let name = env("AWS_PROFILE")
        .and_then(|v| v.into_string().ok())
        .unwrap_or_else(|| "default".to_owned());
    let home = env("HOME").map(|h| PathBuf::from(h).join(".aws"));
    let file = |key: &str, default: &str| {
        let path = env(key)
            .map(PathBuf::from)
            .or_else(|| home.as_ref().map(|h| h.join(default)))?;
        std::fs::read_to_string(path).ok()
    };
    let credentials = file("AWS_SHARED_CREDENTIALS_FILE", "credentials");
    let config = file("AWS_CONFIG_FILE", "config");
    let profile = merge(credentials.as_deref(), config.as_deref(), &name)?;
    Some((name, profile))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sections_and_profiles_merge_as_the_aws_cli_reads_them() {
        let credentials = "# keys\n[default]\naws_access_key_id = AKD\n\n[site]\naws_access_key_id=AKS\naws_secret_access_key = s=cret\n; end\n";
        let config = "[default]\nregion = eu-west-1\n[profile site]\nregion = us-west-2\nendpoint_url = http://127.0.0.1:9000\naws_access_key_id = ignored\n";
        let site = merge(Some(credentials), Some(config), "site").unwrap();
        assert_eq!(site["aws_access_key_id"], "AKS");
        assert_eq!(site["aws_secret_access_key"], "s=cret");
        assert_eq!(site["region"], "us-west-2");
        assert_eq!(site["endpoint_url"], "http://127.0.0.1:9000");
        let default = merge(Some(credentials), Some(config), "default").unwrap();
        assert_eq!(default["region"], "eu-west-1");
        assert_eq!(default["aws_access_key_id"], "AKD");
        assert_eq!(merge(Some(credentials), None, "other"), None);
        // `[site]` in the config file is not the profile `site`.
        assert_eq!(merge(None, Some("[site]\nregion = x\n"), "site"), None);
    }
}
