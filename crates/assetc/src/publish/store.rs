//! The bucket, through object_store's S3 client: list, HEAD, create-only and overwriting
//! PUTs, deletes, and the one call object_store has no method for, CopyObject onto itself
//! with `x-amz-metadata-directive: REPLACE` (new headers, no bytes sent), signed by
//! object_store's own SigV4 signer. Every error names the key and carries the store's answer.

use std::collections::BTreeSet;
use std::time::Duration;

use anyhow::{anyhow, bail, Context};
use futures_util::TryStreamExt;
use object_store::aws::{AmazonS3, AmazonS3Builder, AmazonS3ConfigKey, AwsAuthorizer};
use object_store::client::{HttpClient, HttpConnector, HttpRequestBody, ReqwestConnector};
use object_store::path::Path as Key;
use object_store::{
    Attribute, Attributes, ClientOptions, GetOptions, ObjectStore, ObjectStoreExt, PutMode,
    PutOptions, PutPayload, RetryConfig,
};
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

use super::plan::{Remote, Want, SHA256_METADATA};

/// A failed request is retried this often, quickly: a publish that cannot reach its store
/// says so within seconds, and running it again resumes where it stopped.
const RETRIES: usize = 2;
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
const REQUEST_TIMEOUT: Duration = Duration::from_secs(120);

/// The characters S3 takes unencoded in a path (its URI-encoding rule for SigV4): RFC 3986's
/// unreserved set.
const KEY_SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// One bucket.
#[derive(Debug)]
pub struct Store {
    s3: AmazonS3,
    http: HttpClient,
    bucket: String,
    /// Path-style base URL, without a trailing slash.
    endpoint: String,
    region: String,
}

/// What a PUT did.
#[derive(Debug, PartialEq, Eq)]
pub enum Put {
    Uploaded,
    /// Create-only, and the key already held these very bytes (a 412 on equal SHA-256).
    AlreadyThere,
}

impl Store {
    /// The client for `bucket`, credentials and region from the standard AWS environment
    /// variables (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`,
    /// `AWS_REGION`, `AWS_ENDPOINT_URL`, ...), then the shared-config profile, `endpoint`
    /// winning over both.
    pub fn connect(bucket: &str, endpoint: Option<&str>) -> anyhow::Result<Self> {
        let mut builder = AmazonS3Builder::from_env().with_bucket_name(bucket);
        // A shared-config profile fills in what the environment leaves unset (the AWS CLI's
        // order: environment variables first).
        if let Some((name, profile)) = super::profile::load() {
            for (file_key, config_key) in [
                ("aws_access_key_id", AmazonS3ConfigKey::AccessKeyId),
                ("aws_secret_access_key", AmazonS3ConfigKey::SecretAccessKey),
                ("aws_session_token", AmazonS3ConfigKey::Token),
                ("region", AmazonS3ConfigKey::Region),
                ("endpoint_url", AmazonS3ConfigKey::Endpoint),
            ] {
                if let (Some(value), None) =
                    (profile.get(file_key), builder.get_config_value(&config_key))
                {
                    builder = builder.with_config(config_key, value);
                }
            }
            let keys = [
                AmazonS3ConfigKey::AccessKeyId,
                AmazonS3ConfigKey::SecretAccessKey,
            ];
            if keys
                .iter()
                .filter(|k| builder.get_config_value(k).is_some())
                .count()
                == 1
            {
                bail!("the AWS profile `{name}` and the environment give an access key id or a secret access key without the other; hint: set both `aws_access_key_id` and `aws_secret_access_key`");
            }
        }
        if let Some(endpoint) = endpoint {
            builder = builder.with_endpoint(endpoint);
        }
        let region = builder
            .get_config_value(&AmazonS3ConfigKey::Region)
            .or_else(|| builder.get_config_value(&AmazonS3ConfigKey::DefaultRegion))
            .unwrap_or_else(|| "us-east-1".to_owned());
        let endpoint = builder
            .get_config_value(&AmazonS3ConfigKey::Endpoint)
            .unwrap_or_else(|| format!("https://s3.{region}.amazonaws.com"));
        let endpoint = endpoint.trim_end_matches('/').to_owned();
        if !endpoint.starts_with("http://") && !endpoint.starts_with("https://") {
            bail!("the endpoint `{endpoint}` is not an `http://` or `https://` URL");
        }
        let options = ClientOptions::new()
            .with_allow_http(endpoint.starts_with("http://"))
            .with_connect_timeout(CONNECT_TIMEOUT)
            .with_timeout(REQUEST_TIMEOUT);
        let retry = RetryConfig {
            max_retries: RETRIES,
            retry_timeout: Duration::from_secs(30),
            ..RetryConfig::default()
        };
        let s3 = builder
            .with_region(&region)
            // Path-style requests (`ENDPOINT/BUCKET/KEY`): what every S3-compatible store takes.
            .with_virtual_hosted_style_request(false)
            // One DELETE per key: every S3-compatible store has it (not all have the bulk
            // POST), and a failure names its key.
            .with_config(AmazonS3ConfigKey::DisableBulkDelete, "true")
            .with_client_options(options.clone())
            .with_retry(retry)
            .build()
            .with_context(|| format!("cannot set up the S3 client for `s3://{bucket}`"))?;
        let http = ReqwestConnector::default()
            .connect(&options)
            .context("cannot set up an HTTP client")?;
        Ok(Self {
            s3,
            http,
            bucket: bucket.to_owned(),
            endpoint,
            region,
        })
    }

    /// Where requests go, for messages.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// Every key under `prefix` (the whole bucket when empty).
    pub async fn list(&self, prefix: &str) -> Result<BTreeSet<String>, object_store::Error> {
        let prefix = (!prefix.is_empty()).then(|| Key::from(prefix));
        self.s3
            .list(prefix.as_ref())
            .map_ok(|meta| meta.location.to_string())
            .try_collect()
            .await
    }

    /// What the bucket holds at `key`, or None.
    pub async fn head(&self, key: &str) -> anyhow::Result<Option<Remote>> {
        let options = GetOptions {
            head: true,
            ..GetOptions::default()
        };
        match self.s3.get_opts(&Key::from(key), options).await {
            Ok(result) => {
                let a = &result.attributes;
                let get = |attribute: &Attribute| a.get(attribute).map(|v| v.to_string());
                Ok(Some(Remote {
                    sha256: get(&Attribute::Metadata(SHA256_METADATA.into())),
                    cache_control: get(&Attribute::CacheControl),
                    content_type: get(&Attribute::ContentType),
                    content_encoding: get(&Attribute::ContentEncoding),
                    etag: result.meta.e_tag,
                }))
            }
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => {
                Err(anyhow!(answer(&e)).context(format!("cannot read the headers of `{key}`")))
            }
        }
    }

    /// Uploads `bytes` at `want.key` with its headers and SHA-256; create-only for a
    /// fingerprinted key (`If-None-Match: *`), which is never overwritten with other bytes.
    pub async fn put(&self, want: &Want, bytes: Vec<u8>) -> anyhow::Result<Put> {
        let options = PutOptions {
            mode: if want.create_only {
                PutMode::Create
            } else {
                PutMode::Overwrite
            },
            attributes: attributes(want),
            ..PutOptions::default()
        };
        let key = Key::from(want.key.as_str());
        match self
            .s3
            .put_opts(&key, PutPayload::from(bytes), options)
            .await
        {
            Ok(_) => Ok(Put::Uploaded),
            Err(object_store::Error::AlreadyExists { .. }) => {
                // Someone (an interrupted run, a concurrent one) was first: done if the bytes
                // are ours, a conflict otherwise.
                let remote = self.head(&want.key).await?;
                match remote.and_then(|r| r.sha256) {
                    Some(sha) if sha == want.sha256 => Ok(Put::AlreadyThere),
                    found => bail!(
                        "`{}` already holds other bytes (SHA-256 `{}`, this build's is `{}`), and a fingerprinted key is never overwritten; hint: a fingerprinted name belongs to one content: remove the object by hand if it is garbage",
                        want.key,
                        found.as_deref().unwrap_or("unknown"),
                        want.sha256
                    ),
                }
            }
            Err(e) => Err(anyhow!(answer(&e)).context(format!("cannot upload `{}`", want.key))),
        }
    }

    /// Gives the object at `want.key` the headers it wants without sending its bytes:
    /// CopyObject onto itself with `x-amz-metadata-directive: REPLACE`, only while it is still
    /// the object planned on (`x-amz-copy-source-if-match`).
    pub async fn refresh(&self, want: &Want, etag: Option<&str>) -> anyhow::Result<()> {
        let context = || format!("cannot refresh the headers of `{}`", want.key);
        let credential = self
            .s3
            .credentials()
            .get_credential()
            .await
            .with_context(context)?;
        let path = format!("{}/{}", segment(&self.bucket), encode_key(&want.key));
        let mut request = http::Request::builder()
            .method(http::Method::PUT)
            .uri(format!("{}/{path}", self.endpoint))
            .header("x-amz-copy-source", format!("/{path}"))
            .header("x-amz-metadata-directive", "REPLACE")
            .header("cache-control", &want.headers.cache_control)
            .header("content-type", &want.headers.content_type)
            .header(format!("x-amz-meta-{SHA256_METADATA}"), &want.sha256);
        if let Some(encoding) = &want.headers.content_encoding {
            request = request.header("content-encoding", encoding);
        }
        if let Some(etag) = etag {
            request = request.header("x-amz-copy-source-if-match", etag);
        }
        let mut request = request
            .body(HttpRequestBody::empty())
            .map_err(|e| anyhow!(e))
            .with_context(context)?;
        AwsAuthorizer::new(&credential, "s3", &self.region)
            .try_authorize(&mut request, None)
            .with_context(context)?;
        let response = self
            .http
            .execute(request)
            .await
            .map_err(|e| anyhow!(answer(&e)))
            .with_context(context)?;
        let status = response.status();
        // CopyObject can fail with a 200 whose body is an `<Error>` (AWS's documented quirk).
        let body = response
            .into_body()
            .bytes()
            .await
            .map_err(|e| anyhow!(answer(&e)))
            .with_context(context)?;
        let text = String::from_utf8_lossy(&body);
        if !status.is_success() || text.contains("<Error>") {
            return Err(anyhow!(s3_error(&status.to_string(), &text))).with_context(context);
        }
        Ok(())
    }

    pub async fn delete(&self, key: &str) -> anyhow::Result<()> {
        self.s3
            .delete(&Key::from(key))
            .await
            .map_err(|e| anyhow!(answer(&e)))
            .with_context(|| format!("cannot delete `{key}`"))
    }

    /// `s3://BUCKET/PREFIX`, for messages.
    pub fn url(&self, prefix: &str) -> String {
        if prefix.is_empty() {
            format!("s3://{}", self.bucket)
        } else {
            format!("s3://{}/{prefix}", self.bucket)
        }
    }
}

/// The store's answer in one line, each cause once: object_store's errors repeat their
/// sources in their messages, so only the innermost is kept, and an S3 error document
/// (`<Error><Code>…`) is reduced to the status, its code and its message.
pub fn answer(error: &(dyn std::error::Error + 'static)) -> String {
    let mut inner = error;
    while let Some(source) = inner.source() {
        inner = source;
    }
    let text = inner.to_string();
    match text.split_once(": <?xml") {
        Some((status, document)) => {
            let status = status
                .rsplit("status code: ")
                .next()
                .unwrap_or(status)
                .trim();
            s3_error(status, document)
        }
        None => text,
    }
}

/// `STATUS`, then the `Code` and `Message` of an S3 error document, when it has them.
fn s3_error(status: &str, document: &str) -> String {
    let element = |name: &str| {
        let open = format!("<{name}>");
        let start = document.find(&open)? + open.len();
        let end = document[start..].find(&format!("</{name}>"))?;
        Some(document[start..start + end].trim().to_owned())
    };
    match (element("Code"), element("Message")) {
        (Some(code), Some(message)) => format!("the store answered {status}: `{code}`: {message}"),
        (Some(code), None) => format!("the store answered {status}: `{code}`"),
        _ if document.trim().is_empty() => format!("the store answered {status}"),
        _ => format!("the store answered {status}: {}", document.trim()),
    }
}

/// The headers of `want` and its SHA-256 (`x-amz-meta-sha256`).
fn attributes(want: &Want) -> Attributes {
    let mut attributes = Attributes::new();
    attributes.insert(
        Attribute::CacheControl,
        want.headers.cache_control.clone().into(),
    );
    attributes.insert(
        Attribute::ContentType,
        want.headers.content_type.clone().into(),
    );
    if let Some(encoding) = &want.headers.content_encoding {
        attributes.insert(Attribute::ContentEncoding, encoding.clone().into());
    }
    attributes.insert(
        Attribute::Metadata(SHA256_METADATA.into()),
        want.sha256.clone().into(),
    );
    attributes
}

fn segment(s: &str) -> String {
    utf8_percent_encode(s, KEY_SEGMENT).to_string()
}

/// A key as a URL path: each segment encoded, the slashes kept.
fn encode_key(key: &str) -> String {
    key.split('/').map(segment).collect::<Vec<_>>().join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn s3_error_documents_become_one_line() {
        let doc = r#"<?xml version="1.0"?><Error><Code>NoSuchBucket</Code><Message>gone</Message></Error>"#;
        assert_eq!(
            s3_error("404 Not Found", doc),
            "the store answered 404 Not Found: `NoSuchBucket`: gone"
        );
        assert_eq!(s3_error("500", ""), "the store answered 500");
    }

    #[test]
    fn keys_are_encoded_per_segment() {
        assert_eq!(encode_key("css/a.X_-~.css"), "css/a.X_-~.css");
        assert_eq!(encode_key("img/a b+c.png"), "img/a%20b%2Bc.png");
    }
}
