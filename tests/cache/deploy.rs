//! A deploy through a cache under load: README's Deploys section (copy the new build beside
//! every replica and verify it, then swap them all) while `wrk` requests the old page and
//! its assets through the cache for a bounded time.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use super::checks::{describe, expected, get, stats_after, Cache, CLIENTS};
use super::replicas::{Rep, Replicas, Site};
use crate::common::TIMEOUT;

/// How long `wrk` runs, which bounds the load: the deploy must happen within it.
const LOAD_SECONDS: u64 = 8;
/// How long after the last replica reloaded the cache may still answer with the old page:
/// Varnish keeps a page fresh 1 ms; nginx 1 s, counted in whole seconds (so up to 2).
const NEW_PAGE_WITHIN: Duration = Duration::from_secs(4);

/// `wrk`'s totals, as `tests/hostile/load.lua` prints them.
#[derive(Debug)]
struct WrkTotals {
    requests: u64,
    socket_errors: u64,
    /// Responses that were not 2xx or 3xx.
    status: u64,
}

fn wrk(url: &str, paths: &[String]) -> (WrkTotals, String) {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/hostile/load.lua");
    let out = Command::new("wrk")
        .args([
            "-t2",
            "-c16",
            &format!("-d{LOAD_SECONDS}s"),
            "--timeout",
            "5s",
            "-s",
        ])
        .arg(&script)
        .arg(url)
        .arg("--")
        .args(paths)
        .output()
        .expect("run wrk (`just test-deps` installs it)");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "wrk: {out:?}");
    let line = stdout
        .lines()
        .find(|l| l.starts_with("{\"requests\""))
        .unwrap_or_else(|| panic!("no totals from wrk:\n{stdout}"));
    let json: serde_json::Value = serde_json::from_str(line).unwrap();
    let n = |k: &str| json[k].as_u64().unwrap();
    let totals = WrkTotals {
        requests: n("requests"),
        socket_errors: n("connect") + n("read") + n("write") + n("timeout"),
        status: n("status"),
    };
    (totals, stdout)
}

/// Release 1 is served and cached; release 2 is deployed under load. Then: wrk saw only
/// 2xx and 3xx and no socket error, the cache gives the new page within
/// [`NEW_PAGE_WITHIN`] and never the old one after that, the old page's assets are still
/// served (in a coding the load never asked for, so a replica sends it from release 2's
/// kept generation), and the new page's assets load.
pub fn deploy_under_load(cache: &impl Cache, replicas: &Replicas, site: &mut Site) {
    let old_page = site.reps("index.html");
    let old_assets: Vec<(String, Vec<Rep>)> = [
        "css/site.css",
        "js/app.js",
        "js/util.js",
        "fonts/face.woff2",
    ]
    .iter()
    .map(|l| (site.url(l), site.reps(l)))
    .collect();
    let mut paths = vec!["/".to_owned()];
    paths.extend(old_assets.iter().map(|(url, _)| url.clone()));
    // The next release, built over the previous output (which keeps release 1's files).
    site.release(2);
    let new_page = site.reps("index.html");

    let before = cache.stats();
    let url = format!("http://{}/", cache.addr());
    std::thread::scope(|scope| {
        let load = scope.spawn(|| wrk(&url, &paths));
        // Under way: the cache has answered a first few hundred requests.
        let deadline = Instant::now() + TIMEOUT;
        while cache.stats().requests < before.requests + 300 {
            assert!(
                Instant::now() < deadline && !load.is_finished(),
                "no load through the cache"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
        replicas.copy_release(site);
        replicas.swap(site);
        let swapped = Instant::now();
        assert!(
            !load.is_finished(),
            "wrk ended before the replicas swapped: raise LOAD_SECONDS"
        );

        // No stale page once both replicas serve release 2.
        let ae = Some("gzip, deflate, br, zstd");
        let want = expected(
            new_page
                .iter()
                .find(|r| r.coding.as_deref() == Some("br"))
                .unwrap(),
        );
        loop {
            let got = describe(&get(cache, "/", ae), &new_page);
            if got == want {
                break;
            }
            assert!(
                swapped.elapsed() < NEW_PAGE_WITHIN,
                "{}: still not the new page {NEW_PAGE_WITHIN:?} after the replicas reloaded: {got}",
                cache.name()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        println!(
            "{}: the new page {:?} after the last reload",
            cache.name(),
            swapped.elapsed()
        );
        for i in 0..40 {
            let (ae, coding) = CLIENTS[i % CLIENTS.len()];
            let want = expected(new_page.iter().find(|r| r.coding_name() == coding).unwrap());
            let got = describe(&get(cache, "/", ae), &new_page);
            assert_eq!(
                got,
                want,
                "{}: a page view after the new page (Accept-Encoding {ae:?})",
                cache.name()
            );
            if load.is_finished() {
                break;
            }
        }
        // The old page's assets, from the replicas (zstd: the load asked for br and identity).
        for (url, reps) in &old_assets {
            let zstd = reps
                .iter()
                .find(|r| r.coding.as_deref() == Some("zstd"))
                .unwrap_or(&reps[0]);
            let got = describe(&get(cache, url, Some("zstd")), reps);
            assert_eq!(
                got,
                expected(zstd),
                "{}: the old page's {url}",
                cache.name()
            );
        }
        assert_ne!(old_page[0].bytes, new_page[0].bytes);

        let (totals, output) = load.join().unwrap();
        println!("{}: {totals:?}", cache.name());
        assert_eq!(totals.socket_errors, 0, "{}: {output}", cache.name());
        assert_eq!(
            totals.status,
            0,
            "{}: non-2xx/3xx responses: {output}",
            cache.name()
        );
        assert!(totals.requests > 300, "{totals:?}");
    });
    let stats = stats_after(cache, before, 0);
    println!("{}: {stats:?} over the deploy", cache.name());

    // The new page's assets load through the cache.
    for logical in [
        "css/site.css",
        "js/app.js",
        "js/util.js",
        "fonts/face.woff2",
    ] {
        let reps = site.reps(logical);
        let url = site.url(logical);
        let got = describe(&get(cache, &url, Some("gzip, deflate, br, zstd")), &reps);
        let want = reps
            .iter()
            .find(|r| r.coding.as_deref() == Some("br"))
            .unwrap_or(&reps[0]);
        assert_eq!(
            got,
            expected(want),
            "{}: the new page's {url}",
            cache.name()
        );
    }
    // No replica answered anything but 200 or 304 to the cache.
    let bad: Vec<_> = replicas
        .fetches()
        .into_iter()
        .filter(|f| f.status != 200 && f.status != 304)
        .collect();
    assert!(bad.is_empty(), "{}: {bad:?}", cache.name());
}
