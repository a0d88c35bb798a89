"""The framework glue in-process where the framework allows it: Flask's `Assetc` (config keys,
init_app, template globals), `assetc.jinja.install`, and Django's tags, storage and system check
(run as `manage.py` in subprocesses, since Django's settings are per process)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import flask
import jinja2
import pytest

import assetc
import assetc.flask
import assetc.jinja
from support import EXAMPLES, build, child_env, write_tree

SITE = {
    "css/site.css": "body { color: red }\n",
    "js/app.js": 'import "./dep.js";\n',
    "js/dep.js": "export const x = 1;\n",
    "img/R&D.png": b"png",
}


@pytest.fixture
def built(tmp_path):
    write_tree(tmp_path / "src", SITE)
    return tmp_path, build(tmp_path, base_url="/static/")


def test_flask_extension_registers_template_globals(built):
    root, raw = built
    app = flask.Flask("demo", root_path=str(root))
    app.config["ASSETC_MANIFEST"] = "build/assetc-manifest.json"  # relative to app.root_path
    assetc.flask.Assetc(app)
    e = raw["entries"]
    with app.app_context():
        out = flask.render_template_string(
            "{{ asset_url('img/R&D.png') }}|{{ asset_integrity('css/site.css') }}|{{ asset_tags('js/app.js') }}"
        )
        assert assetc.flask.asset_url("css/site.css") == "/static/" + e["css/site.css"]["path"]
        assert assetc.flask.current_manifest() is app.extensions["assetc"]
    url, integrity, tags = out.split("|")
    # asset_url is a plain string, so autoescaping escapes it; asset_tags is markup.
    assert url == "/static/img/R&amp;D." + e["img/R&D.png"]["path"].split(".", 1)[1]
    assert integrity == e["css/site.css"]["integrity"]
    assert tags.startswith('<script type="module" src="/static/js/app.')
    assert '<link rel="modulepreload" href="/static/js/dep.' in tags


def test_flask_init_app_and_strictness_from_config(built):
    root, _ = built
    ext = assetc.flask.Assetc()
    strict = flask.Flask("strict", root_path=str(root))
    strict.config["ASSETC_MANIFEST"] = str(root / "build")
    ext.init_app(strict)
    with strict.app_context(), pytest.raises(assetc.UnknownAsset, match=r"`css/sit.css` is not in the manifest .*`css/site.css`"):
        flask.render_template_string("{{ asset_url('css/sit.css') }}")
    loose = flask.Flask("loose", root_path=str(root))
    loose.config.update(ASSETC_MANIFEST=str(root / "missing"), ASSETC_STRICT=False)
    ext.init_app(loose)
    with loose.app_context():
        assert ext.manifest is loose.extensions["assetc"]
        assert flask.render_template_string("{{ asset_url('css/new.css') }}") == "/css/new.css"
    # Two apps, two manifests: each template sees its own.
    assert strict.extensions["assetc"] is not loose.extensions["assetc"]


def test_flask_without_the_extension_says_what_to_do():
    app = flask.Flask("bare")
    with app.app_context(), pytest.raises(RuntimeError, match=r"call `assetc.flask.Assetc\(app\)` first"):
        assetc.flask.current_manifest()


def test_jinja_install_adds_globals_to_an_environment(built):
    root, raw = built
    env = jinja2.Environment(autoescape=True)
    m = assetc.jinja.install(env, root / "build", reload_interval=None)
    assert isinstance(m, assetc.Manifest) and m.reload_interval is None
    out = env.from_string("{{ asset_tags('css/site.css') }} {{ asset_url('img/R&D.png') }} {{ asset_integrity('js/dep.js') }}").render()
    e = raw["entries"]
    assert out == (
        f'<link rel="stylesheet" href="/static/{e["css/site.css"]["path"]}" integrity="{e["css/site.css"]["integrity"]}"> '
        f'/static/{e["img/R&D.png"]["path"].replace("&", "&amp;")} {e["js/dep.js"]["integrity"]}'
    )
    # An already loaded manifest is used as it is.
    env2 = jinja2.Environment()
    assert assetc.jinja.install(env2, m) is m
    with pytest.raises(TypeError):
        assetc.jinja.install(env2, m, strict=False)


def django_project(tmp_path: Path, settings: str = "") -> Path:
    """A copy of the Django example with extra settings in `test_settings`."""
    site = tmp_path / "django-site"
    shutil.copytree(EXAMPLES / "django-site", site, ignore=shutil.ignore_patterns("build", "__pycache__"))
    (site / "test_settings.py").write_text(f"from mysite.settings import *  # noqa\n{textwrap.dedent(settings)}\n", "utf-8")
    return site


def manage(site: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=site,
        env=child_env(DJANGO_SETTINGS_MODULE="test_settings", **env),
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_django_check_passes_with_a_built_manifest(tmp_path):
    site = django_project(tmp_path)
    build(site, "assets", "build", "http://127.0.0.1:9/")
    run = manage(site, "check")
    assert run.returncode == 0, run.stderr
    assert "System check identified no issues" in run.stdout


def test_django_check_reports_a_missing_manifest(tmp_path):
    site = django_project(tmp_path)
    run = manage(site, "check")
    assert run.returncode == 1
    expected = site / "build" / "assetc-manifest.json"
    assert f"(assetc.E002) the assetc manifest `{expected}` does not exist" in run.stderr
    assert "HINT: run `assetc build`" in run.stderr


def test_django_check_warns_only_when_not_strict(tmp_path):
    site = django_project(tmp_path, "ASSETC_STRICT = False")
    run = manage(site, "check")
    assert run.returncode == 0, run.stderr
    assert "(assetc.W002) the assetc manifest" in run.stderr


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda p: p.write_text('{"version": 2, "base_url": "/", "entries": {}}'), r"has version `2`, and this assetc package reads version 1 only"),
        (lambda p: p.write_text("not json"), r"is not valid JSON"),
        (lambda p: p.symlink_to(p.name), r"cannot read the manifest `.*`: too many levels of symbolic links"),
    ],
)
def test_django_check_reports_an_unreadable_manifest(tmp_path, make, message):
    site = django_project(tmp_path)
    bad = tmp_path / "bad-manifest.json"
    make(bad)
    run = manage(site, "check", ASSETC_MANIFEST=str(bad))
    assert run.returncode == 1, run.stderr
    assert "(assetc.E003)" in run.stderr
    assert re.search(message, run.stderr), run.stderr


def test_django_check_reports_an_unset_setting(tmp_path):
    site = django_project(tmp_path, "del ASSETC_MANIFEST")
    run = manage(site, "check")
    assert run.returncode == 1
    assert "(assetc.E001) `ASSETC_MANIFEST` is not set" in run.stderr


RENDER = """
import json, django
django.setup()
from django.template import engines
from django.contrib.staticfiles.storage import staticfiles_storage
engine = engines["django"]
out = {}
out["url"] = engine.from_string('{% load assetc %}{% asset_url "img/R&D.png" %}').render()
out["tags"] = engine.from_string('{% load assetc %}{% asset_tags "js/app.js" %}').render()
out["integrity"] = engine.from_string('{% load assetc %}{% asset_integrity "css/site.css" %}').render()
out["static"] = engine.from_string('{% load static %}{% static "css/site.css" %}').render()
out["storage"] = staticfiles_storage.url("js/dep.js")
try:
    engine.from_string('{% load static %}{% static "css/sit.css" %}').render()
except KeyError as e:
    out["strict"] = [type(e).__name__, str(e)]
try:
    out["loose"] = staticfiles_storage.url("admin/base.css")
except KeyError as e:
    out["loose"] = str(e)
print(json.dumps(out))
"""


@pytest.mark.parametrize("strict", [True, False])
def test_django_tags_and_static_answer_from_the_manifest(tmp_path, strict):
    site = django_project(tmp_path, f"ASSETC_STRICT = {strict}")
    write_tree(site / "src", SITE)
    raw = build(site, "src", "build", "/assets/")
    e = raw["entries"]
    run = subprocess.run(
        [sys.executable, "-c", RENDER],
        cwd=site,
        env=child_env(DJANGO_SETTINGS_MODULE="test_settings", PYTHONPATH=str(site)),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 0, run.stderr
    out = json.loads(run.stdout)
    assert out["url"] == "/assets/" + e["img/R&D.png"]["path"].replace("&", "&amp;")
    assert out["tags"].startswith(f'<script type="module" src="/assets/{e["js/app.js"]["path"]}" integrity="')
    assert f'<link rel="modulepreload" href="/assets/{e["js/dep.js"]["path"]}"' in out["tags"]
    assert out["integrity"] == e["css/site.css"]["integrity"]
    assert out["static"] == "/assets/" + e["css/site.css"]["path"]
    assert out["storage"] == "/assets/" + e["js/dep.js"]["path"]
    if strict:
        assert out["strict"][0] == "UnknownAsset"
        assert "`css/sit.css` is not in the manifest" in out["strict"][1] and "`css/site.css`" in out["strict"][1]
        assert "admin/base.css" in out["loose"] and "is not in the manifest" in out["loose"]
    else:
        assert "strict" not in out  # the unknown name went to StaticFilesStorage
        assert out["loose"] == "/static/admin/base.css"
