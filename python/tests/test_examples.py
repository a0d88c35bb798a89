"""Each example app in examples/ started for real on its real server (Flask on gunicorn, FastAPI
on uvicorn, Django's WSGI app on waitress) beside the real `assetc serve` as its asset origin:
the page names fingerprinted URLs that answer 200 with the immutable policy, and after a
rebuild that changes one CSS file the running app (not restarted) names the new URL."""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from typing import Callable, List, Sequence, Tuple

import pytest

import assetc
from support import (
    EXAMPLES,
    IMMUTABLE,
    VENV_BIN,
    Process,
    build,
    child_env,
    free_port,
    get,
    page_urls,
    processes,
    start_asset_origin,
    wait_for,
)


@dataclass
class Example:
    folder: str
    # argv for the app server, given the app's port.
    server: Callable[[int], List[str]]
    # Logical paths the page loads: tags and URLs, modulepreloads included.
    assets: Sequence[str]
    # The stylesheet the rebuild changes, linked from the page.
    changed_css: str
    extra_env: Tuple[Tuple[str, str], ...] = ()


EXAMPLE_APPS = {
    "flask-gunicorn": Example(
        folder="flask-dashboard",
        # Two worker processes: each has its own manifest, and both must follow the rebuild.
        server=lambda port: [
            str(VENV_BIN / "gunicorn"), "--bind", f"127.0.0.1:{port}", "--workers", "2", "--threads", "2",
            "--no-control-socket", "app:app",
        ],
        assets=["css/dashboard.css", "js/dashboard.js", "js/format.js", "js/plural.js", "img/logo.svg"],
        changed_css="css/dashboard.css",
    ),
    "fastapi-uvicorn": Example(
        folder="fastapi-app",
        server=lambda port: [str(VENV_BIN / "uvicorn"), "main:app", "--host", "127.0.0.1", "--port", str(port)],
        assets=["css/site.css", "js/app.js", "js/orders.js", "img/cup.svg"],
        changed_css="css/site.css",
    ),
    "django-waitress": Example(
        folder="django-site",
        server=lambda port: [
            str(VENV_BIN / "waitress-serve"), "--listen", f"127.0.0.1:{port}", "--threads", "2", "mysite.wsgi:application",
        ],
        assets=["css/site.css", "js/app.js", "js/greet.js", "img/icon.svg", "img/logo.svg"],
        changed_css="css/site.css",
    ),
}


def expected_urls(manifest: assetc.Manifest, logical: Sequence[str]) -> List[str]:
    return sorted(manifest.url(path) for path in logical)


@pytest.mark.parametrize("name", list(EXAMPLE_APPS))
def test_example_app_on_its_real_server_beside_assetc_serve(name, tmp_path, logs):
    ex = EXAMPLE_APPS[name]
    # A copy: the test builds and edits its own tree, never examples/.
    site = tmp_path / ex.folder
    shutil.copytree(EXAMPLES / ex.folder, site, ignore=shutil.ignore_patterns("build", "__pycache__"))

    with processes() as started:
        origin, first, _serve = start_asset_origin(site, logs, started)
        manifest_path = site / "build" / "assetc-manifest.json"
        manifest = assetc.Manifest.load(manifest_path, reload_interval=0)

        app_port = free_port()
        app = Process(
            name,
            ex.server(app_port),
            cwd=site,
            env=child_env(ASSETC_MANIFEST=str(manifest_path), PYTHONPATH=str(site), **dict(ex.extra_env)),
            log_dir=logs,
        )
        started.append(app)
        page_url = f"http://127.0.0.1:{app_port}/"
        page = app.wait_http(page_url)
        assert page.status == 200, f"{page.status}: {page.text}\n{app.output()}"
        assert page.headers["content-type"].startswith("text/html")

        # The page names exactly the fingerprinted URLs of its assets on the asset origin.
        urls = page_urls(page.text, origin)
        assert sorted(set(urls)) == expected_urls(manifest, ex.assets), page.text
        for logical in ex.assets:
            entry = manifest.entry(logical)
            assert entry.immutable and entry.path != logical
            assert re.search(r"\.[\w-]{12}\.\w+$", entry.path), entry.path
            if logical.endswith((".css", ".js")):
                assert f'integrity="{entry.integrity}"' in page.text, logical
        # Each answers 200 from `assetc serve`, with the immutable policy and CORS for the page.
        for logical in ex.assets:
            url = manifest.url(logical)
            r = get(url)
            assert r.status == 200, url
            assert r.headers["cache-control"] == IMMUTABLE, (url, r.headers)
            assert r.headers.get("access-control-allow-origin") == "*", (url, r.headers)
            assert r.body == (site / "build" / manifest.entry(logical).path).read_bytes(), url

        # A rebuild that changes one stylesheet; the app keeps running.
        old_css = manifest.url(ex.changed_css)
        unchanged = {p: manifest.url(p) for p in ex.assets if p != ex.changed_css}
        css_source = site / "assets" / ex.changed_css
        css_source.write_text(css_source.read_text("utf-8") + "\nfooter { color: rgb(1, 2, 3); }\n", "utf-8")
        second = build(site, "assets", "build", f"{origin}/")
        new_css = f"{origin}/{assetc.encode_path(second['entries'][ex.changed_css]['path'])}"
        assert new_css != old_css
        assert manifest.url(ex.changed_css) == new_css

        # Every worker follows within its reload interval: wait until several requests in a
        # row name the new URL (a worker that has not looked yet would show the old one).
        in_a_row = []

        def page_names_new_url():
            text = get(page_url).text
            in_a_row.append(new_css in page_urls(text, origin) and old_css not in text)
            if not in_a_row[-1]:
                in_a_row.clear()
            return text if len(in_a_row) >= 6 else None

        text = wait_for(f"{name} to name the rebuilt `{ex.changed_css}`", page_names_new_url, timeout=20, interval=0.1)
        assert app.alive(), "the app was not restarted"
        for path, url in unchanged.items():
            assert url in page_urls(text, origin), f"{path} kept its URL"
        # The new URL is served by the same `assetc serve` (it follows the build by itself);
        # the old one still answers for pages cached before the rebuild.
        r = wait_for("assetc serve to serve the new build", lambda: (lambda r: r if r.status == 200 else None)(get(new_css)), 20)
        assert r.headers["cache-control"] == IMMUTABLE
        assert b"rgb(1, 2, 3)" in r.body
        old = get(old_css)
        assert (old.status, old.headers["cache-control"]) == (200, IMMUTABLE)
