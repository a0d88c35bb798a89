//! The cache tier (issue 18): the shipped `deploy/varnish/assetc.vcl` and
//! `deploy/nginx/assetc-cache.conf`, run by Debian's Varnish and nginx on 127.0.0.1 in front
//! of two `assetc serve` replicas on copies of one build (other inodes, other mtimes), pass
//! every check in `checks` and a deploy under `wrk` load; the same checks against each
//! cache's stock configuration find exactly the problems deploy/README.md documents (a
//! negative case that fails if Varnish or nginx ever change them, so that the note is
//! corrected); and `assetc serve --preload-links`.

mod checks;
mod deploy;
mod nginx;
mod preload;
mod replicas;
mod varnish;

use nginx::Nginx;
use replicas::{Replicas, Site};
use varnish::Varnish;

#[test]
fn varnish_with_the_shipped_vcl_passes_every_check() {
    let mut site = Site::new();
    let replicas = Replicas::start(&site);
    let varnish = Varnish::start(
        &varnish::shipped_vcl(&replicas.addrs()),
        &["http_gzip_support=off"],
    );
    assert_eq!(
        checks::all(&varnish, &replicas, &mut site),
        Vec::<String>::new()
    );
}

#[test]
fn nginx_with_the_shipped_config_passes_every_check() {
    let mut site = Site::new();
    let replicas = Replicas::start(&site);
    let nginx = Nginx::start(&replicas.addrs(), nginx::Conf::Shipped);
    assert_eq!(
        checks::all(&nginx, &replicas, &mut site),
        Vec::<String>::new()
    );
}

#[test]
fn a_deploy_under_load_through_varnish_fails_no_request_and_leaves_no_stale_page() {
    let mut site = Site::new();
    let replicas = Replicas::start(&site);
    let varnish = Varnish::start(
        &varnish::shipped_vcl(&replicas.addrs()),
        &["http_gzip_support=off"],
    );
    deploy::deploy_under_load(&varnish, &replicas, &mut site);
}

#[test]
fn a_deploy_under_load_through_nginx_fails_no_request_and_leaves_no_stale_page() {
    let mut site = Site::new();
    let replicas = Replicas::start(&site);
    let nginx = Nginx::start(&replicas.addrs(), nginx::Conf::Shipped);
    deploy::deploy_under_load(&nginx, &replicas, &mut site);
}

/// Varnish's defaults (`http_gzip_support` on, the built-in VCL), as deploy/README.md
/// documents them: br and zstd never reach a client (every request is sent to the replicas
/// as `Accept-Encoding: gzip`, and Varnish gunzips for clients without gzip, weakening the
/// ETag: the identity bytes go out under `W/` and the gzip variant's tag); a request with a
/// cookie is passed to a replica; `no-cache` pages are never stored (hit-for-miss), so
/// every view is a full page from a replica.
#[test]
fn stock_varnish_fails_the_checks_as_documented() {
    let mut site = Site::new();
    let replicas = Replicas::start(&site);
    let varnish = Varnish::start(&varnish::stock_vcl(&replicas.addrs()), &[]);
    let br = "200 br bytes, Content-Encoding br, br's ETag";
    let gzip = "200 gzip bytes, Content-Encoding gzip, gzip's ETag";
    let gunzipped = "200 identity bytes, Content-Encoding none, W/ gzip's ETag";
    let zstd = "200 zstd bytes, Content-Encoding zstd, zstd's ETag";
    let identity = "200 identity bytes, Content-Encoding none, identity's ETag";
    let chromium = "Accept-Encoding: gzip, deflate, br, zstd";
    let q_values = "Accept-Encoding: br;q=1.0, gzip;q=0.8, *;q=0.1";
    assert_eq!(
        checks::all(&varnish, &replicas, &mut site),
        [
            format!("css/site.css for {chromium}: {gzip}; want {br}"),
            format!("css/site.css for {q_values}: {gzip}; want {br}"),
            format!("css/site.css for Accept-Encoding: zstd: {gunzipped}; want {zstd}"),
            format!("css/site.css for Accept-Encoding: *: {gunzipped}; want {identity}"),
            format!("css/site.css for no Accept-Encoding: {gunzipped}; want {identity}"),
            "the replicas sent css/site.css 2 times (br, gzip); want once per coding (br, gzip, identity, zstd)".to_owned(),
            "varnish counted 15 requests, 13 hits, 0 revalidations; want 15, 11, 0".to_owned(),
            format!("a page view: {gzip}; want {br}"),
            "the replicas sent the full page for every view; want once, then 304s".to_owned(),
            "replica 1 answered no conditional fetch with 304".to_owned(),
            "replica 2 answered no conditional fetch with 304".to_owned(),
            format!("the page for {q_values}: {gzip}; want {br}"),
            format!("the page for Accept-Encoding: zstd: {gunzipped}; want {zstd}"),
            format!("the page for Accept-Encoding: *: {gunzipped}; want {identity}"),
            format!("the page for no Accept-Encoding: {gunzipped}; want {identity}"),
            "the replicas sent the page in full 6 times to 6 more clients; want 3 (zstd, gzip, identity)".to_owned(),
            "the replicas sent about.html in full 7 times for 7 requests; want 1".to_owned(),
        ]
    );
}

/// `proxy_cache` as nginx's documentation introduces it, under Debian's `nginx.conf`
/// (`gzip on`), as deploy/README.md documents it: variants are kept per spelling of
/// Accept-Encoding (the same br bytes twice, gzip twice); `no-cache` pages are never
/// stored, and with `proxy_cache` on nginx strips a client's If-None-Match before asking
/// a replica, so a browser revalidating a page gets the whole page, never a 304; and a
/// response without variants is gzipped on the fly under a weakened ETag.
#[test]
fn stock_nginx_fails_the_checks_as_documented() {
    let mut site = Site::new();
    let replicas = Replicas::start(&site);
    let nginx = Nginx::start(&replicas.addrs(), nginx::Conf::Stock);
    let on_the_fly =
        "200 identity bytes gzipped on the fly, Content-Encoding gzip, W/ identity's ETag";
    let identity = "200 identity bytes, Content-Encoding none, identity's ETag";
    let mut expected = vec![
        "the replicas sent css/site.css 7 times (br, br, br, gzip, gzip, identity, zstd); want once per coding (br, gzip, identity, zstd)".to_owned(),
        "nginx counted 15 requests, 8 hits, 0 revalidations; want 15, 11, 0".to_owned(),
        "the replicas sent the full page for every view; want once, then 304s".to_owned(),
        "replica 1 answered no conditional fetch with 304".to_owned(),
        "replica 2 answered no conditional fetch with 304".to_owned(),
        "a client's If-None-Match with the ETag it got: 200 br bytes, Content-Encoding br, br's ETag; want 304 with that ETag".to_owned(),
        "the replicas sent the page in full 6 times to 6 more clients; want 3 (zstd, gzip, identity)".to_owned(),
    ];
    for ae in [
        "gzip, deflate, br, zstd",
        "br;q=1.0, gzip;q=0.8, *;q=0.1",
        "gzip",
        "br;q=0, gzip",
    ] {
        expected.push(format!(
            "about.html for Accept-Encoding: {ae}: {on_the_fly}; want {identity}"
        ));
    }
    expected.push("the replicas sent about.html in full 7 times for 7 requests; want 1".to_owned());
    assert_eq!(checks::all(&nginx, &replicas, &mut site), expected);
}
