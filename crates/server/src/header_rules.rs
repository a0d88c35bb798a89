//! Extra response headers by URL glob (CSP, HSTS, CORS for fonts), compiled at load; the
//! headers the server manages itself are refused.

use actix_web::http::header::{HeaderName, HeaderValue};

use crate::error::LoadError;
use crate::options::HeaderRule;
use crate::route::HeaderList;

/// Headers the server decides itself; a header rule may not set them.
const MANAGED_HEADERS: &[&str] = &[
    "accept-ranges",
    "allow",
    "cache-control",
    "content-encoding",
    "content-length",
    "content-range",
    "content-type",
    "date",
    "etag",
    "expires",
    "last-modified",
    "location",
    "transfer-encoding",
    "use-as-dictionary",
    "vary",
    "x-content-type-options",
];

pub(crate) fn header_value(what: &str, value: &str) -> Result<HeaderValue, LoadError> {
    HeaderValue::from_str(value).map_err(|_| LoadError::BadHeaderValue {
        what: what.to_owned(),
        value: value.to_owned(),
    })
}

/// Header rules, compiled.
#[derive(Debug)]
pub(crate) struct Rules {
    set: globset::GlobSet,
    headers: Vec<HeaderList>,
    /// The list of a URL no rule matches, shared by all of them.
    none: HeaderList,
}

impl Rules {
    pub(crate) fn new(rules: &[HeaderRule]) -> Result<Self, LoadError> {
        let mut builder = globset::GlobSetBuilder::new();
        let mut headers = Vec::with_capacity(rules.len());
        for rule in rules {
            let glob = globset::GlobBuilder::new(&rule.glob)
                .literal_separator(true)
                .build()
                .map_err(|source| LoadError::Glob {
                    glob: rule.glob.clone(),
                    source,
                })?;
            builder.add(glob);
            let mut list = Vec::with_capacity(rule.headers.len());
            for (name, value) in &rule.headers {
                let header = HeaderName::from_bytes(name.as_bytes())
                    .map_err(|_| LoadError::BadHeaderName { name: name.clone() })?;
                if MANAGED_HEADERS.contains(&header.as_str()) {
                    return Err(LoadError::ManagedHeader {
                        glob: rule.glob.clone(),
                        name: name.clone(),
                    });
                }
                list.push((header, header_value(name, value)?));
            }
            headers.push(list.into());
        }
        let set = builder.build().map_err(|source| LoadError::Glob {
            glob: String::new(),
            source,
        })?;
        Ok(Self {
            set,
            headers,
            none: HeaderList::from([]),
        })
    }

    /// The headers of every rule matching `url`, later rules overriding earlier ones.
    /// A URL matching no rule, or one, shares that list: equal lists are one allocation
    /// across a build's routes.
    pub(crate) fn for_url(&self, url: &str) -> HeaderList {
        if self.set.is_empty() {
            return self.none.clone();
        }
        let matches = self.set.matches(url);
        match matches.as_slice() {
            [] => return self.none.clone(),
            [one] => return self.headers[*one].clone(),
            _ => {}
        }
        let mut out: Vec<(HeaderName, HeaderValue)> = Vec::new();
        for i in matches {
            for (name, value) in self.headers[i].iter() {
                out.retain(|(n, _)| n != name);
                out.push((name.clone(), value.clone()));
            }
        }
        out.into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_rules_merge_in_order_and_refuse_managed_headers() {
        let rule = |glob: &str, name: &str, value: &str| HeaderRule {
            glob: glob.into(),
            headers: vec![(name.into(), value.into())],
        };
        let rules = Rules::new(&[
            rule("/**", "x-frame-options", "DENY"),
            rule("/fonts/*.woff2", "access-control-allow-origin", "*"),
            rule("/fonts/**", "x-frame-options", "SAMEORIGIN"),
        ])
        .unwrap();
        let font = rules.for_url("/fonts/a.woff2");
        assert_eq!(font.len(), 2);
        assert!(font
            .iter()
            .any(|(n, v)| n == "x-frame-options" && v == "SAMEORIGIN"));
        assert_eq!(
            rules.for_url("/fonts/sub/a.woff2").len(),
            1,
            "`*` stays within a segment"
        );
        assert_eq!(rules.for_url("/index.html").len(), 1);
        assert!(matches!(
            Rules::new(&[rule("/**", "Cache-Control", "x")]),
            Err(LoadError::ManagedHeader { .. })
        ));
        assert!(matches!(
            Rules::new(&[rule("/[", "x-a", "b")]),
            Err(LoadError::Glob { .. })
        ));
        assert!(matches!(
            Rules::new(&[rule("/**", "bad name", "b")]),
            Err(LoadError::BadHeaderName { .. })
        ));
        assert!(matches!(
            Rules::new(&[rule("/**", "x-a", "b\nc")]),
            Err(LoadError::BadHeaderValue { .. })
        ));
    }
}
