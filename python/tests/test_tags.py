"""`Manifest.tags` (`asset_tags`): script and stylesheet tags with integrity, modulepreload for the
modules a script imports (from the real build's reference graph), crossorigin, and HTML escaping."""

from __future__ import annotations

import html
import re

import pytest

import assetc
from support import build, write_tree

GRAPH = {
    # app.js imports a.js (which imports b.js, which imports a.js back: a cycle) and c.js,
    # and references an image and a stylesheet by URL: neither is a module to preload.
    "js/app.js": 'import "./a.js";\nimport { c } from "./c.js";\nconst logo = new URL("../img/logo.png", import.meta.url);\n',
    "js/a.js": 'import "./b.js";\nexport const a = 1;\n',
    "js/b.js": 'import "./a.js";\nimport "./d.js";\nexport const b = 1;\n',
    "js/c.js": 'import "./d.js";\nexport const c = 1;\n',
    "js/d.js": "export const d = 1;\n",
    "js/alone.js": "console.log('no imports');\n",
    "img/logo.png": b"\x89PNG\r\n\x1a\n",
    "css/site.css": 'body { background: url("../img/logo.png") }\n',
    "css/R&D's \"best\".css": "p { color: red }\n",
}


@pytest.fixture
def site(tmp_path):
    write_tree(tmp_path / "src", GRAPH)
    return tmp_path


def test_a_script_gets_modulepreload_for_every_module_it_imports_transitively(site):
    raw = build(site, base_url="/static/")
    assert raw["entries"]["js/app.js"]["references"] == ["img/logo.png", "js/a.js", "js/c.js"]
    m = assetc.Manifest.load(site / "build")
    lines = m.tags("js/app.js").split("\n")

    def attrs(logical):
        e = raw["entries"][logical]
        return f'"/static/{e["path"]}" integrity="{e["integrity"]}"'

    assert lines == [
        f'<script type="module" src={attrs("js/app.js")}></script>',
        # Depth first, each once, the cycle a -> b -> a ends, d reached twice appears once.
        f'<link rel="modulepreload" href={attrs("js/a.js")}>',
        f'<link rel="modulepreload" href={attrs("js/b.js")}>',
        f'<link rel="modulepreload" href={attrs("js/d.js")}>',
        f'<link rel="modulepreload" href={attrs("js/c.js")}>',
    ]
    assert m.tags("js/app.js", preload=False) == lines[0]
    assert m.tags("js/alone.js").count("\n") == 0


def test_a_stylesheet_gets_a_link_and_other_files_are_refused(site):
    raw = build(site, base_url="/")
    m = assetc.Manifest.load(site / "build")
    e = raw["entries"]["css/site.css"]
    assert m.tags("css/site.css") == f'<link rel="stylesheet" href="/{e["path"]}" integrity="{e["integrity"]}">'
    with pytest.raises(ValueError, match=r"`img/logo.png` is `image/png`, not a script or stylesheet: use `asset_url` for it"):
        m.tags("img/logo.png")


def test_a_cross_origin_base_url_adds_crossorigin_as_sri_requires(site):
    raw = build(site, base_url="https://cdn.example.com/assets/")
    m = assetc.Manifest.load(site / "build")
    tags = m.tags("js/c.js")
    assert tags.count('crossorigin="anonymous"') == 2  # the script and its one preload
    css = m.tags("css/site.css")
    assert css == (
        f'<link rel="stylesheet" href="https://cdn.example.com/assets/{raw["entries"]["css/site.css"]["path"]}" '
        f'integrity="{raw["entries"]["css/site.css"]["integrity"]}" crossorigin="anonymous">'
    )


def test_every_value_is_html_escaped(site):
    raw = build(site, base_url="/a&b/")
    m = assetc.Manifest.load(site / "build")
    served = raw["entries"]["css/R&D's \"best\".css"]["path"]
    url = m.url("css/R&D's \"best\".css")
    # The URL as the build writes it: `"` percent-encoded, `&` and `'` left as they are.
    assert url == "/a&b/" + assetc.encode_path(served)
    assert "%22best%22" in url and "R&D's" in url
    tag = m.tags("css/R&D's \"best\".css")
    assert tag.startswith('<link rel="stylesheet" href="/a&amp;b/css/R&amp;D&#x27;s%20%22best%22.')
    href = re.search(r'href="([^"]*)"', tag).group(1)
    assert html.unescape(href) == url
    # Every `&` in the markup starts an entity.
    assert not re.search(r"&(?!amp;|#x27;|quot;|lt;|gt;)", tag)
    assert "&amp;b/" in m.tags("js/app.js")


def test_tags_are_markup_for_jinja_and_django(site):
    build(site)
    m = assetc.Manifest.load(site / "build")
    tag = m.tags("css/site.css")
    assert isinstance(tag, assetc.HTML) and isinstance(tag, str)
    assert tag.__html__() == str(tag)
