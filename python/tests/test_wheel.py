"""The wheel itself (`$ASSETC_WHEEL`, built by maturin): what it holds, and that `pip install` of it
into a fresh virtualenv gives that environment a working `assetc` on its PATH and the package."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

import assetc
from support import write_tree


@pytest.fixture(scope="module")
def wheel() -> Path:
    value = os.environ.get("ASSETC_WHEEL")
    if not value:
        raise RuntimeError("set `ASSETC_WHEEL` to the wheel to test (`just test-python` builds one and sets it)")
    path = Path(value)
    if not path.is_file():
        raise RuntimeError(f"no wheel at `{path}` (`ASSETC_WHEEL`): build it with `just test-python` or `just wheel`")
    return path


def test_wheel_holds_the_binary_and_a_pure_python_package(wheel):
    name = re.fullmatch(r"assetc-([^-]+)-py3-none-([\w.]+)\.whl", wheel.name)
    assert name, wheel.name
    version, platform = name.groups()
    assert re.match(r"(manylinux_\d+_\d+|linux)_", platform), platform
    with zipfile.ZipFile(wheel) as z:
        names = z.namelist()
        scripts = [n for n in names if ".data/scripts/" in n]
        assert scripts == [f"assetc-{version}.data/scripts/assetc"]
        assert z.getinfo(scripts[0]).external_attr >> 16 & 0o111, "the binary is executable"
        package = sorted(n for n in names if n.startswith("assetc/"))
        # Python sources only: nothing compiled is imported at run time.
        assert all(n.endswith((".py", "py.typed")) for n in package), package
        for module in ["assetc/__init__.py", "assetc/flask.py", "assetc/jinja.py", "assetc/django/storage.py",
                       "assetc/django/templatetags/assetc.py"]:
            assert module in package
        metadata = z.read(f"assetc-{version}.dist-info/METADATA").decode()
    assert "Provides-Extra: django" in metadata and "Provides-Extra: flask" in metadata
    assert "Requires-Dist: flask>=2.2 ; extra == 'flask'" in metadata
    # The suite runs against this very version.
    assert assetc.__version__ == version


def test_pip_install_into_a_fresh_venv_gives_it_assetc(wheel, tmp_path):
    venv = tmp_path / "fresh"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    bin_dir = venv / "bin"
    env = {"PATH": f"{bin_dir}{os.pathsep}/usr/bin:/bin", "HOME": str(tmp_path), "NO_COLOR": "1",
           "PIP_DISABLE_PIP_VERSION_CHECK": "1", "PIP_NO_INDEX": "1"}
    install = subprocess.run(
        [str(bin_dir / "pip"), "install", str(wheel)], env=env, capture_output=True, text=True, timeout=180
    )
    assert install.returncode == 0, install.stdout + install.stderr
    assert (bin_dir / "assetc").is_file()

    # `assetc` by name, found on the venv's PATH.
    version = subprocess.run(["assetc", "--version"], env=env, capture_output=True, text=True, timeout=30)
    assert version.returncode == 0, version.stderr
    assert version.stdout.strip() == f"assetc {assetc.__version__}"

    project = tmp_path / "project"
    write_tree(project / "assets", {"css/site.css": "body { color: teal }\n", "index.html": '<link rel="stylesheet" href="css/site.css">'})
    run = subprocess.run(["assetc", "build"], cwd=project, env=env, capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    manifest = json.loads((project / "build" / "assetc-manifest.json").read_text())
    served = manifest["entries"]["css/site.css"]["path"]
    assert served != "css/site.css" and (project / "build" / served).is_file()
    assert served in (project / "build" / "index.html").read_text()

    # The venv's Python imports the package from the venv, and it reads that build.
    # The glue modules import without their frameworks (none is installed here): lazily.
    code = (
        "import assetc, assetc.flask, assetc.jinja, assetc.django, json, sys; m = assetc.Manifest.load('build');"
        "missing = [f for f in ('flask', 'jinja2', 'django', 'markupsafe') if f in sys.modules];"
        "print(json.dumps([assetc.__file__, m.url('css/site.css'), sys.prefix, missing]))"
    )
    py = subprocess.run([str(bin_dir / "python"), "-c", code], cwd=project, env=env, capture_output=True, text=True, timeout=30)
    assert py.returncode == 0, py.stderr
    file, url, prefix, imported = json.loads(py.stdout)
    assert imported == []
    assert Path(file).is_relative_to(Path(prefix)) and Path(prefix) == venv
    assert url == "/" + served
