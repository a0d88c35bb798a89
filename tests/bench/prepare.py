"""Set-up for the benchmarks, idempotent and cached under target/bench/.

- Debian packages the benchmarks run (nginx, wrk, brotli, zstd, gzip, openssl, GNU time),
  installed with apt-get when missing.
- A virtualenv (target/bench/venv) with Django, WhiteNoise (+ brotli) and Sphinx from
  PyPI, at pinned versions.
- The corpora under target/bench/corpus/:
  - `npm`: real published front-end packages from the npm registry at pinned versions
    (Bootstrap's dist folder; Font Awesome Free's CSS, JS, webfonts, sprites and its
    ~2,000 SVG icons), with a small index page that loads them;
  - `npm-min`: the part of `npm` a page loads (minified CSS and JS, web fonts);
  - `docs`: Sphinx's own documentation, built by Sphinx from its PyPI sdist;
  - `synth-N`: synthetic trees of N files (tests/bench/synth.py);
  - `packages/NAME-VERSION`: published npm packages at two versions each, for the
    returning visitor after a deploy (`DEPLOY_PAIRS`, bench.py's `deploy` figures).

Each corpus is rebuilt only when its stamp (`NAME.stamp` beside it: the pinned versions, the generator
version) changes. Run directly: `python3 tests/bench/prepare.py [--synth 10000,100000]`.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tarfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
BENCH = os.path.join(ROOT, "target", "bench")
CORPUS = os.path.join(BENCH, "corpus")
VENV = os.path.join(BENCH, "venv")
DOWNLOADS = os.path.join(BENCH, "downloads")

NPM_PACKAGES = [
    # (spec, tarball name, what to keep from `package/`, where it goes in the corpus)
    ("bootstrap@5.3.3", "bootstrap-5.3.3.tgz", ["dist"], "vendor/bootstrap"),
    ("@fortawesome/fontawesome-free@6.5.2", "fortawesome-fontawesome-free-6.5.2.tgz",
     ["css", "js", "webfonts", "sprites", "svgs", "LICENSE.txt"], "vendor/fontawesome"),
]
# A version a returning visitor's browser holds, and the one deployed after it: (package,
# old version, new version, the files a page loads from it).
BOOTSTRAP_FILES = ["dist/css/bootstrap.min.css", "dist/js/bootstrap.bundle.min.js"]
DEPLOY_PAIRS = [
    ("bootstrap", "5.3.2", "5.3.3", BOOTSTRAP_FILES),
    ("bootstrap", "5.2.3", "5.3.3", BOOTSTRAP_FILES),
    ("jquery", "3.7.0", "3.7.1", ["dist/jquery.min.js"]),
]
PYPI_PINS = ["Django==5.1.4", "whitenoise==6.8.2", "Brotli==1.1.0", "Sphinx==7.2.6"]
SPHINX_SDIST = "sphinx-7.2.6.tar.gz"

# Debian package for each command the benchmarks run.
APT = {"nginx": "nginx-light", "wrk": "wrk", "brotli": "brotli", "zstd": "zstd",
       "gzip": "gzip", "openssl": "openssl", "/usr/bin/time": "time"}


def log(msg: str) -> None:
    print(f"[bench setup] {msg}", file=sys.stderr, flush=True)


def run(cmd, **kw):
    kw.setdefault("check", True)
    return subprocess.run(cmd, **kw)


def have(cmd: str) -> bool:
    return os.path.exists(cmd) if cmd.startswith("/") else shutil.which(cmd) is not None


def ensure_apt() -> None:
    missing = sorted({pkg for cmd, pkg in APT.items() if not have(cmd)})
    if not missing:
        return
    log(f"installing Debian packages: {' '.join(missing)}")
    sudo = [] if os.geteuid() == 0 else ["sudo"]
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    run(sudo + ["apt-get", "update", "-qq"], env=env)
    run(sudo + ["apt-get", "install", "-y", "-qq", *missing], env=env)


def stamp_ok(path: str, stamp: str) -> bool:
    try:
        with open(path.rstrip("/") + ".stamp") as f:
            return f.read() == stamp
    except OSError:
        return False


def write_stamp(path: str, stamp: str) -> None:
    with open(path.rstrip("/") + ".stamp", "w") as f:
        f.write(stamp)


def venv_python() -> str:
    return os.path.join(VENV, "bin", "python")


def ensure_venv() -> None:
    stamp = json.dumps(PYPI_PINS)
    if os.path.exists(venv_python()) and stamp_ok(VENV, stamp):
        return
    log(f"creating {os.path.relpath(VENV, ROOT)} with {' '.join(PYPI_PINS)}")
    shutil.rmtree(VENV, ignore_errors=True)
    run([sys.executable, "-m", "venv", VENV])
    run([venv_python(), "-m", "pip", "install", "--quiet", *PYPI_PINS])
    write_stamp(VENV, stamp)


def ensure_npm() -> str:
    out = os.path.join(CORPUS, "npm")
    stamp = json.dumps([p[:4] for p in NPM_PACKAGES])
    if stamp_ok(out, stamp):
        return out
    os.makedirs(DOWNLOADS, exist_ok=True)
    for spec, tgz, _, _ in NPM_PACKAGES:
        if not os.path.exists(os.path.join(DOWNLOADS, tgz)):
            log(f"npm pack {spec}")
            run(["npm", "pack", "--silent", spec], cwd=DOWNLOADS, stdout=subprocess.DEVNULL)
    tmp = out + ".tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    for spec, tgz, keep, dest in NPM_PACKAGES:
        with tarfile.open(os.path.join(DOWNLOADS, tgz)) as tar:
            for member in tar.getmembers():
                parts = member.name.split("/", 1)
                if len(parts) != 2 or not member.isfile():
                    continue
                rel = parts[1]
                if not any(rel == k or rel.startswith(k + "/") for k in keep):
                    continue
                target = os.path.join(tmp, dest, rel)
                os.makedirs(os.path.dirname(target), exist_ok=True)
                with tar.extractfile(member) as src, open(target, "wb") as dst:
                    shutil.copyfileobj(src, dst)
    # A page that loads both packages, as an app's base template would.
    with open(os.path.join(tmp, "index.html"), "w") as f:
        f.write("""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>vendor assets</title>
<link rel="stylesheet" href="vendor/bootstrap/dist/css/bootstrap.min.css">
<link rel="stylesheet" href="vendor/fontawesome/css/all.min.css">
</head><body>
<i class="fa-solid fa-house"></i>
<img src="vendor/fontawesome/svgs/solid/house.svg" alt="" width="16">
<script src="vendor/bootstrap/dist/js/bootstrap.bundle.min.js"></script>
<script src="vendor/fontawesome/js/all.min.js"></script>
</body></html>
""")
    shutil.rmtree(out, ignore_errors=True)
    os.rename(tmp, out)
    write_stamp(out, stamp)
    return out


def ensure_package(name: str, version: str) -> str:
    """`npm pack NAME@VERSION`, unpacked once into corpus/packages/NAME-VERSION."""
    out = os.path.join(CORPUS, "packages", f"{name}-{version}")
    if stamp_ok(out, version):
        return out
    os.makedirs(DOWNLOADS, exist_ok=True)
    tgz = f"{name}-{version}.tgz"
    if not os.path.exists(os.path.join(DOWNLOADS, tgz)):
        log(f"npm pack {name}@{version}")
        run(["npm", "pack", "--silent", f"{name}@{version}"], cwd=DOWNLOADS,
            stdout=subprocess.DEVNULL)
    tmp = out + ".tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    with tarfile.open(os.path.join(DOWNLOADS, tgz)) as tar:
        for member in tar.getmembers():
            parts = member.name.split("/", 1)
            if len(parts) != 2 or not member.isfile():
                continue
            target = os.path.join(tmp, parts[1])
            os.makedirs(os.path.dirname(target), exist_ok=True)
            with tar.extractfile(member) as src, open(target, "wb") as dst:
                shutil.copyfileobj(src, dst)
    shutil.rmtree(out, ignore_errors=True)
    os.rename(tmp, out)
    write_stamp(out, version)
    return out


# The files the `npm` corpus's page loads in production: minified CSS and JS with their
# source maps, and the web fonts. Small enough for a quick run of the compressed comparison (brotli's quality 11
# runs near 1 MB/s per core).
NPM_MIN = ["vendor/bootstrap/dist/css/bootstrap.min.css",
           "vendor/bootstrap/dist/js/bootstrap.bundle.min.js",
           "vendor/fontawesome/css/all.min.css", "vendor/fontawesome/js/all.min.js",
           "vendor/fontawesome/webfonts/*"]


def ensure_npm_min(npm: str) -> str:
    import glob

    out = os.path.join(CORPUS, "npm-min")
    stamp = json.dumps([[p[:4] for p in NPM_PACKAGES], NPM_MIN, "maps"])
    if stamp_ok(out, stamp):
        return out
    tmp = out + ".tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    for pattern in NPM_MIN:
        for path in glob.glob(os.path.join(npm, pattern)):
            # With its source map where it has one: the files reference them.
            for src in (path, path + ".map"):
                if os.path.exists(src):
                    target = os.path.join(tmp, os.path.relpath(src, npm))
                    os.makedirs(os.path.dirname(target), exist_ok=True)
                    shutil.copyfile(src, target)
    with open(os.path.join(npm, "index.html")) as f:
        page = "".join(line for line in f if "svgs/" not in line)
    with open(os.path.join(tmp, "index.html"), "w") as f:
        f.write(page)
    shutil.rmtree(out, ignore_errors=True)
    os.rename(tmp, out)
    write_stamp(out, stamp)
    return out


def ensure_docs() -> str:
    out = os.path.join(CORPUS, "docs")
    stamp = json.dumps([SPHINX_SDIST, PYPI_PINS])
    if stamp_ok(out, stamp):
        return out
    ensure_venv()
    os.makedirs(DOWNLOADS, exist_ok=True)
    sdist = os.path.join(DOWNLOADS, SPHINX_SDIST)
    if not os.path.exists(sdist):
        log(f"pip download {SPHINX_SDIST}")
        run([venv_python(), "-m", "pip", "download", "--quiet", "--no-deps",
             "--no-binary", ":all:", "Sphinx==7.2.6", "-d", DOWNLOADS])
    src = os.path.join(BENCH, "sphinx-src")
    shutil.rmtree(src, ignore_errors=True)
    with tarfile.open(sdist) as tar:
        tar.extractall(src, filter="data")
    (top,) = os.listdir(src)
    doc = os.path.join(src, top, "doc")
    # Offline: no inventories to fetch, and no graphviz needed.
    with open(os.path.join(doc, "conf.py"), "a") as f:
        f.write("\n# assetc bench: offline build\nintersphinx_mapping = {}\n")
    tmp = out + ".tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    log("building Sphinx's documentation with Sphinx (about a minute)")
    run([venv_python(), "-m", "sphinx", "-b", "html", "-q", "-j", "auto", doc, tmp],
        stderr=subprocess.DEVNULL)
    for junk in (".buildinfo", ".doctrees"):
        p = os.path.join(tmp, junk)
        shutil.rmtree(p, ignore_errors=True) if os.path.isdir(p) else None
        if os.path.isfile(p):
            os.remove(p)
    shutil.rmtree(out, ignore_errors=True)
    os.rename(tmp, out)
    shutil.rmtree(src, ignore_errors=True)
    write_stamp(out, stamp)
    return out


def ensure_synth(n: int) -> str:
    sys.path.insert(0, HERE)
    import synth  # noqa: E402

    out = os.path.join(CORPUS, f"synth-{n}")
    with open(os.path.join(HERE, "synth.py"), "rb") as f:
        stamp = json.dumps([n, synth.VERSION, hashlib.sha256(f.read()).hexdigest()])
    if stamp_ok(out, stamp):
        return out
    log(f"generating {n} synthetic files")
    tmp = out + ".tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    synth.generate(tmp, n)
    shutil.rmtree(out, ignore_errors=True)
    os.rename(tmp, out)
    write_stamp(out, stamp)
    return out


def prepare(synth_sizes: list[int]) -> dict[str, str]:
    os.makedirs(CORPUS, exist_ok=True)
    ensure_apt()
    ensure_venv()
    npm = ensure_npm()
    corpora = {"npm": npm, "npm-min": ensure_npm_min(npm), "docs": ensure_docs()}
    for n in synth_sizes:
        corpora[f"synth-{n // 1000}k"] = ensure_synth(n)
    return corpora


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--synth", default="10000,100000")
    args = ap.parse_args()
    for name, path in prepare([int(x) for x in args.synth.split(",") if x]).items():
        print(name, path)
