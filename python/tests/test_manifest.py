"""`assetc.Manifest` against manifests the real `assetc build` wrote: URLs and their encoding,
integrity, entries, version checks, strictness and close matches, and reloading after a rebuild."""

from __future__ import annotations

import json
import logging
import os
import re
import time
import urllib.parse
from pathlib import Path

import pytest

import assetc
import assetc._manifest
from support import build, wait_for, write_tree

# File names that need percent-encoding in a URL (spaces, non-ASCII, `%`, `#`, `?`, ...) and
# some that do not (`+`, `;`, `=`, `~`, `!`, `&`, `'`, `(`, `@`, `$`), each referenced once
# from a stylesheet so the build writes its URL.
ODD_NAMES = [
    "img/a b.png",
    "img/café.png",
    "img/日本語.png",
    "img/naïve résumé.png",
    "img/100%.png",
    "img/hash#1.png",
    "img/what?.png",
    "img/brace{x}.png",
    "img/caret^pipe|.png",
    "img/back`tick.png",
    "img/lt<gt>.png",
    "img/c:d.png",
    "img/plus+semi;eq=.png",
    "img/tilde~bang!$@.png",
    "img/R&D's (1).png",
    "dir with space/ü/x y.png",
    "emoji/🙂.png",
]


def odd_site(root: Path, base_url: str = "/") -> None:
    # Root-relative, every byte but `/` percent-encoded: the build decodes it back to `name`.
    # Under a path base URL the site is served below it, so its root-relative references
    # start with it (a bare `/img/...` would be outside the build); with an origin as the
    # base they start at the host root.
    root_path = base_url if base_url.startswith("/") else "/"
    rules = []
    for i, name in enumerate(ODD_NAMES):
        rules.append(f'.i{i} {{ background: url("{root_path}{urllib.parse.quote(name, safe="/")}") }}')
    files = {name: f"bytes of {name}\n".encode() for name in ODD_NAMES}
    files["css/odd.css"] = "\n".join(rules) + "\n"
    write_tree(root / "src", files)


@pytest.mark.parametrize("base_url", ["/", "/static/", "http://127.0.0.1:8000/assets/"])
def test_url_encoding_is_the_builds_for_spaces_unicode_and_reserved_characters(tmp_path, base_url):
    odd_site(tmp_path, base_url)
    build(tmp_path, base_url=base_url)
    m = assetc.Manifest.load(tmp_path / "build" / "assetc-manifest.json")
    css_path = tmp_path / "build" / m.entry("css/odd.css").path
    written = dict(re.findall(r'\.i(\d+) \{ background: url\("([^"]*)"\) \}', css_path.read_text("utf-8")))
    assert len(written) == len(ODD_NAMES), css_path.read_text("utf-8")
    for i, name in enumerate(ODD_NAMES):
        assert m.url(name) == written[str(i)], name
        assert m.url(name).startswith(base_url)
    # Spelled out, for the reader: what the build writes for a few of them.
    def tail(name):
        return m.url(name)[len(base_url):]

    assert re.fullmatch(r"img/a%20b\.[\w-]{12}\.png", tail("img/a b.png"))
    assert re.fullmatch(r"img/caf%C3%A9\.[\w-]{12}\.png", tail("img/café.png"))
    assert re.fullmatch(r"img/100%25\.[\w-]{12}\.png", tail("img/100%.png"))
    assert re.fullmatch(r"img/hash%231\.[\w-]{12}\.png", tail("img/hash#1.png"))
    assert re.fullmatch(r"img/c%3Ad\.[\w-]{12}\.png", tail("img/c:d.png"))
    assert re.fullmatch(r"img/R&D's%20\(1\)\.[\w-]{12}\.png", tail("img/R&D's (1).png"))
    assert re.fullmatch(r"dir%20with%20space/%C3%BC/x%20y\.[\w-]{12}\.png", tail("dir with space/ü/x y.png"))


def test_encode_path_matches_the_rust_unit_tests():
    # The cases of crates/core/src/url_ref.rs `urls_are_encoded_per_segment`.
    assert assetc.encode_segment("a b#c?d%e/f") == "a%20b%23c%3Fd%25e%2Ff"
    assert assetc.encode_segment("café.png") == "caf%C3%A9.png"
    assert assetc.encode_path("img/a b/c.png") == "img/a%20b/c.png"
    assert assetc.encode_segment("jquery.min.Ab-_9.js") == "jquery.min.Ab-_9.js"
    assert assetc.encode_segment("tab\there\x7f") == "tab%09here%7F"


def simple_site(root: Path, colour: str = "red") -> None:
    write_tree(
        root / "src",
        {
            "index.html": '<!doctype html><link rel="stylesheet" href="css/site.css"><script type="module" src="js/app.js"></script>',
            "css/site.css": f'body {{ color: {colour}; background: url("../img/logo.png") }}\n',
            "js/app.js": 'import { x } from "./dep.js";\nconsole.log(x);\n',
            "js/dep.js": "export const x = 1;\n",
            "img/logo.png": b"\x89PNG\r\n\x1a\n not really",
        },
    )


def test_url_integrity_and_entry_come_from_the_manifest(tmp_path):
    simple_site(tmp_path)
    raw = build(tmp_path, base_url="/static/")
    m = assetc.Manifest.load(tmp_path / "build" / "assetc-manifest.json")
    assert m.base_url == "/static/"
    entry = raw["entries"]["css/site.css"]
    assert m.url("css/site.css") == "/static/" + entry["path"]
    assert re.fullmatch(r"css/site\.[\w-]{12}\.css", entry["path"])
    assert m.integrity("css/site.css") == entry["integrity"]
    assert m.integrity("css/site.css").startswith("sha384-")
    e = m.entry("css/site.css")
    assert (e.path, e.immutable, e.sha256, e.size, e.etag) == (
        entry["path"], True, entry["sha256"], entry["size"], entry["etag"],
    )
    assert e.references == ("img/logo.png",)
    assert e.content_type == "text/css; charset=utf-8"
    # An entry point keeps its name and is not immutable.
    assert m.url("index.html") == "/static/index.html"
    assert m.entry("index.html").immutable is False
    assert "js/dep.js" in m and "js/nope.js" not in m
    assert m.paths == tuple(sorted(raw["entries"]))
    assert len(m) == len(raw["entries"])


def test_load_accepts_the_build_directory_and_relative_paths(tmp_path, monkeypatch):
    simple_site(tmp_path)
    build(tmp_path)
    monkeypatch.chdir(tmp_path)
    by_dir = assetc.Manifest.load("build")
    assert by_dir.path == str(tmp_path / "build" / "assetc-manifest.json")
    monkeypatch.chdir("/")
    # The path was made absolute at load time: a later chdir does not matter.
    assert by_dir.url("js/app.js").startswith("/js/app.")


def bad_manifest(tmp_path: Path, mutate) -> Path:
    """A real manifest, then changed by `mutate` (only the bad-version cases are hand-made)."""
    simple_site(tmp_path)
    doc = build(tmp_path)
    path = tmp_path / "bad.json"
    out = mutate(doc)
    path.write_text(out if isinstance(out, str) else json.dumps(out), "utf-8")
    return path


@pytest.mark.parametrize(
    "mutate, message",
    [
        (lambda d: {**d, "version": 2}, r"has version `2`, and this assetc package reads version 1 only: upgrade this package"),
        (lambda d: {**d, "version": 0}, r"has version `0`, .* rebuild it with `assetc build`"),
        (lambda d: {**d, "version": "1"}, r'has version `"1"`'),
        (lambda d: {**d, "version": True}, r"has version `true`"),
        (lambda d: {k: v for k, v in d.items() if k != "version"}, r"has no `version`"),
    ],
)
def test_unknown_versions_are_refused_with_a_clear_error(tmp_path, mutate, message):
    path = bad_manifest(tmp_path, mutate)
    with pytest.raises(assetc.ManifestError, match=message) as e:
        assetc.Manifest.load(path)
    assert f"`{path}`" in str(e.value)
    assert e.value.path == str(path)
    # Not strict forgives a manifest not built yet, never a wrong one.
    with pytest.raises(assetc.ManifestError, match=message):
        assetc.Manifest.load(path, strict=False)


@pytest.mark.parametrize(
    "mutate, message",
    [
        (lambda d: json.dumps(d)[:-20], r"is not valid JSON"),
        (lambda d: [d], r"is not an assetc manifest"),
        (lambda d: {**d, "entries": []}, r"needs a string `base_url` and an object `entries`"),
        (lambda d: {**d, "entries": {"a.css": {"size": 1}}}, r"malformed entry `a.css`"),
    ],
)
def test_files_that_are_not_manifests_are_refused(tmp_path, mutate, message):
    with pytest.raises(assetc.ManifestError, match=message):
        assetc.Manifest.load(bad_manifest(tmp_path, mutate))


def test_a_missing_manifest_is_an_error_in_strict_mode(tmp_path):
    with pytest.raises(assetc.ManifestError, match=r"does not exist: run `assetc build` first"):
        assetc.Manifest.load(tmp_path / "build" / "assetc-manifest.json")


def test_unknown_paths_raise_a_key_error_naming_them_and_the_closest_known_paths(tmp_path):
    simple_site(tmp_path)
    build(tmp_path)
    m = assetc.Manifest.load(tmp_path / "build")
    with pytest.raises(KeyError) as e:
        m.url("css/sit.css")
    err = e.value
    assert isinstance(err, assetc.UnknownAsset)
    assert err.logical == "css/sit.css"
    assert err.suggestions[0] == "css/site.css"
    assert str(err).startswith(f"`css/sit.css` is not in the manifest `{m.path}`; did you mean `css/site.css`")
    # The file name alone, a leading slash, a wrong folder: the real path is proposed.
    for wrong in ["site.css", "/css/site.css", "styles/site.css"]:
        with pytest.raises(assetc.UnknownAsset) as e:
            m.url(wrong)
        assert "css/site.css" in e.value.suggestions, wrong
    # Nothing close: the message says what to do instead.
    with pytest.raises(assetc.UnknownAsset, match=r"`fonts/zz\.woff2` is not in the manifest .*run `assetc build` after adding it") as e:
        m.url("fonts/zz.woff2")
    assert e.value.suggestions == ()
    # Every lookup is strict, not only url().
    for lookup in (m.integrity, m.entry, m.tags):
        with pytest.raises(assetc.UnknownAsset):
            lookup("js/ap.js")


def test_strict_false_falls_back_to_the_logical_path(tmp_path, caplog):
    simple_site(tmp_path)
    build(tmp_path, base_url="/static/")
    m = assetc.Manifest.load(tmp_path / "build", strict=False)
    with caplog.at_level(logging.WARNING, logger="assetc"):
        assert m.url("css/new file.css") == "/static/css/new%20file.css"
        m.url("css/new file.css")
    assert [r.getMessage() for r in caplog.records] == [
        f"`css/new file.css` is not in the manifest `{m.path}`; using its logical path"
    ]
    assert m.integrity("css/new file.css") is None
    assert m.entry("css/new file.css") is None
    assert m.tags("css/new file.css") == '<link rel="stylesheet" href="/static/css/new%20file.css">'
    # Known paths still answer from the manifest.
    assert m.url("css/site.css") != "/static/css/site.css"


def test_strict_false_before_a_first_build_then_follows_it(tmp_path, caplog):
    path = tmp_path / "build" / "assetc-manifest.json"
    with caplog.at_level(logging.WARNING, logger="assetc"):
        m = assetc.Manifest.load(path, strict=False, reload_interval=0.05, fallback_base_url="/src/")
    assert "does not exist" in caplog.text
    assert m.url("css/site.css") == "/src/css/site.css"
    assert m.base_url == "/src/"
    simple_site(tmp_path)
    raw = build(tmp_path)
    new = "/" + raw["entries"]["css/site.css"]["path"]
    assert wait_for("the first build to be picked up", lambda: m.url("css/site.css") == new or None, 10)
    assert m.base_url == "/"


def test_reloads_after_a_rebuild_within_the_interval(tmp_path):
    simple_site(tmp_path)
    first = build(tmp_path)["entries"]
    m = assetc.Manifest.load(tmp_path / "build", reload_interval=0.2)
    old = m.url("css/site.css")
    assert old == "/" + first["css/site.css"]["path"]
    simple_site(tmp_path, colour="blue")
    second = build(tmp_path)["entries"]
    new = "/" + second["css/site.css"]["path"]
    assert new != old
    started = time.monotonic()
    wait_for("the rebuilt manifest to be picked up", lambda: m.url("css/site.css") == new or None, 10, interval=0.01)
    # Picked up by the first look after the interval, not much later.
    assert time.monotonic() - started < 5
    assert m.integrity("css/site.css") == second["css/site.css"]["integrity"]
    # Unchanged files keep their URLs.
    assert m.url("js/app.js") == "/" + first["js/app.js"]["path"]


def test_no_stat_per_lookup_only_one_per_interval(tmp_path, monkeypatch):
    simple_site(tmp_path)
    build(tmp_path)
    stats = []
    real_stat = os.stat
    manifest_path = str(tmp_path / "build" / "assetc-manifest.json")

    def counting_stat(path, *args, **kwargs):
        if os.fspath(path) == manifest_path:
            stats.append(path)
        return real_stat(path, *args, **kwargs)

    monkeypatch.setattr(assetc._manifest.os, "stat", counting_stat)
    m = assetc.Manifest.load(tmp_path / "build", reload_interval=0.05)
    stats.clear()
    started = time.monotonic()
    for _ in range(20_000):
        m.url("css/site.css")
    elapsed = time.monotonic() - started
    assert len(stats) <= elapsed / 0.05 + 1, (len(stats), elapsed)
    # A long interval: a rebuild is not seen (and nothing is stat'ed) until it passes...
    slow = assetc.Manifest.load(tmp_path / "build", reload_interval=3600)
    before = slow.url("css/site.css")
    stats.clear()
    simple_site(tmp_path, colour="green")
    build(tmp_path)
    for _ in range(1000):
        assert slow.url("css/site.css") == before
    assert stats == []
    # ...or until reload() is called.
    assert slow.reload() is True
    assert slow.url("css/site.css") != before


def test_a_broken_or_vanished_manifest_keeps_the_last_good_one(tmp_path, caplog):
    simple_site(tmp_path)
    build(tmp_path)
    m = assetc.Manifest.load(tmp_path / "build", reload_interval=0)
    good = m.url("css/site.css")
    manifest_path = tmp_path / "build" / "assetc-manifest.json"
    with caplog.at_level(logging.ERROR, logger="assetc"):
        manifest_path.write_text('{"version": 1, "entr', "utf-8")
        assert m.url("css/site.css") == good
        assert m.url("css/site.css") == good
        manifest_path.unlink()
        assert m.url("css/site.css") == good
    messages = [r.getMessage() for r in caplog.records]
    assert len(messages) == 2, messages  # each problem once, not once per lookup
    assert "is not valid JSON" in messages[0] and "still using the manifest loaded before" in messages[0]
    assert "does not exist" in messages[1]
    assert m.reload() is False


def test_reload_interval_must_not_be_negative(tmp_path):
    with pytest.raises(ValueError, match=r"`reload_interval` must be 0 or more seconds, not `-1`"):
        assetc.Manifest.load(tmp_path, reload_interval=-1)
