"""`just bench` / `just bench-quick`: assetc's build and serve speed against the physical
floors and the peers, measured side by side in one run.

Build: `assetc build` cold and no-op, compression off against `cp -r` and
`openssl dgst -sha256` on one core (and Django's collectstatic with
ManifestStaticFilesStorage), compression on against the reference CLIs (`brotli -q 11`,
`zstd -19`, `gzip -9`) over the same files and WhiteNoise's
CompressedManifestStaticFilesStorage. Tools run in turn within each round (A B C A B C),
after an untimed warm-up round that also warms the page cache; the median of the rounds is
reported with the peak RSS of each tool (getrusage of the child).

Serve: wrk against `assetc serve` and nginx (tests/bench/nginx.conf.in), alternating
A B A B, on one build of the synthetic 10,000-file corpus; plus the start-up time and
resident memory of `assetc serve` on a 100,000-entry build (full run).

Deploy: bytes a returning visitor downloads for the changed files after a deploy, with
compression dictionaries (RFC 9842: the browser offers the version it holds, the server
answers with the build's `dcb`/`dcz` delta) and without (br), on published npm packages at
two versions (prepare.DEPLOY_PAIRS), each built twice into one output and served.

Nothing here asserts a timing: the goals are printed beside the figures. The machine is
shared and has two cores, which wrk and the server also share.

    python3 tests/bench/bench.py [--quick] [--only build|serve|deploy] [--assetc PATH]
"""

from __future__ import annotations

import argparse
import base64
import datetime
import hashlib
import http.client
import json
import os
import platform
import re
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import prepare  # noqa: E402

ROOT = prepare.ROOT
BENCH = prepare.BENCH
WORK = os.path.join(BENCH, "work")
CORES = os.cpu_count() or 1
MIB = 1024 * 1024

# Goals the figures are read against (reported, never asserted).
GOAL_COLD_VS_CP = 1.2
GOAL_NOOP_VS_HASH = 1.3
GOAL_PEER_SPEEDUP = 20.0


def log(msg: str) -> None:
    print(f"[bench] {msg}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------------
# Running and timing commands


class Failed(Exception):
    pass


def timed(cmd, *, env=None, cwd=None, timeout=1800, stdout=None):
    """Runs `cmd`, returns (seconds, peak RSS in bytes, stdout bytes or None).

    The peak RSS is the child's ru_maxrss from wait4, which covers the largest of the
    child and the descendants it waited for (xargs' children, Django's process).
    """
    out = tempfile.TemporaryFile() if stdout is None else stdout
    err = tempfile.TemporaryFile()
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=out, stderr=err, env=env, cwd=cwd)
    killer = threading.Timer(timeout, p.kill)
    killer.start()
    try:
        _, status, ru = os.wait4(p.pid, 0)
    finally:
        killer.cancel()
    seconds = time.perf_counter() - t0
    p.returncode = os.waitstatus_to_exitcode(status)
    data = None
    if stdout is None:
        out.seek(0)
        data = out.read()
    if p.returncode != 0:
        err.seek(0)
        tail = err.read()[-2000:].decode(errors="replace")
        raise Failed(f"{' '.join(map(str, cmd))} exited {p.returncode}:\n{tail}")
    return seconds, ru.ru_maxrss * 1024, data


def rmtree(path: str) -> None:
    if os.path.lexists(path):
        subprocess.run(["rm", "-rf", path], check=True)


def tree_files(root: str) -> list[str]:
    """Every regular file of a corpus (the corpora hold no dotfiles or symlinks)."""
    out = []
    for d, dirs, files in os.walk(root):
        dirs.sort()
        for f in sorted(files):
            out.append(os.path.join(d, f))
    return out


def warm(files: list[str]) -> None:
    for f in files:
        with open(f, "rb") as fh:
            while fh.read(1 << 20):
                pass


# ---------------------------------------------------------------------------------------
# Build benchmark


class Tool:
    """One timed command with its untimed preparation."""

    def __init__(self, key, label, cmd, prep=None, env=None, check=None, warmup=True):
        self.key, self.label, self.cmd, self.prep, self.env, self.check = (
            key, label, cmd, prep, env, check)
        self.warmup = warmup
        self.times: list[float] = []
        self.rss: list[int] = []
        self.error: str | None = None

    def run(self, record: bool) -> None:
        """Runs once; a failure is recorded (and reported) rather than ending the run."""
        if self.error:
            return
        try:
            self._run(record)
        except Failed as e:
            self.error = str(e)
            log(f"{self.label} failed: {self.error[:1500]}")

    def _run(self, record: bool) -> None:
        if self.prep:
            self.prep()
        cmd = self.cmd() if callable(self.cmd) else self.cmd
        seconds, rss, out = timed(cmd, env=self.env)
        if self.check:
            self.check(out)
        if record:
            self.times.append(seconds)
            self.rss.append(rss)

    def summary(self) -> dict:
        if self.error or not self.times:
            return {"label": self.label, "error": self.error or "no run"}
        return {"label": self.label, "median_s": statistics.median(self.times),
                "min_s": min(self.times), "max_s": max(self.times), "runs": self.times,
                "peak_rss_bytes": max(self.rss)}


def rounds(tools: list[Tool], n: int, what: str) -> dict:
    """An untimed warm-up round of the quick tools, then `n` timed rounds, A B C A B C."""
    if any(t.warmup for t in tools):
        log(f"{what}: warm-up round")
    for t in tools:
        if t.warmup:
            t.run(record=False)
    for r in range(n):
        log(f"{what}: round {r + 1}/{n}")
        for t in tools:
            t.run(record=True)
    return {t.key: t.summary() for t in tools}


def assetc_report_check(expect_noop: bool, files: int):
    def check(out: bytes) -> None:
        report = json.loads(out)["report"]
        if expect_noop and (report["written"] != 0 or report["changed"]):
            raise Failed(f"expected a no-op rebuild, got written={report['written']}")
        if not expect_noop and report["written"] != files:
            raise Failed(f"expected a cold build of {files} files, got {report['written']}")
        if report["warnings"]:
            log(f"assetc warnings: {len(report['warnings'])}, first: {report['warnings'][0]}")
    return check


def django_env(src: str, dst: str, storage: str) -> dict:
    env = dict(os.environ)
    env.update({"DJANGO_SETTINGS_MODULE": "django_settings", "PYTHONPATH": HERE,
                "BENCH_STATIC_SRC": src, "BENCH_STATIC_ROOT": dst, "BENCH_STORAGE": storage})
    return env


def collectstatic_cmd() -> list[str]:
    return [prepare.venv_python(), "-m", "django", "collectstatic", "--noinput", "-v0"]


class FreshFs:
    """A new ext4 file system for each run, loop-mounted, with the corpus copied in (untimed).

    On a disk with a history of deletions, ext4's inode allocation makes `cp -r` and a
    cold build swing by several times between runs; on a file system made just before the
    run, both pay only for creating files. Needs root, `mkfs.ext4` and loop devices: where
    any is missing, `available()` is False and the comparison is left out of the report."""

    def __init__(self, work: str, src: str, size_bytes: int):
        self.image = os.path.join(work, "fresh-ext4.img")
        self.mnt = os.path.join(work, "fresh-mnt")
        self.src = src
        self.size = max(size_bytes * 3, 256 << 20)

    def available(self) -> bool:
        if os.geteuid() != 0 or not shutil.which("mkfs.ext4"):
            return False
        try:
            self.prepare(copy=False)
            return True
        except (subprocess.CalledProcessError, OSError) as e:
            log(f"fresh file system unavailable: {e}")
            return False
        finally:
            self.close()

    def prepare(self, copy: bool = True) -> None:
        self.close()
        os.makedirs(self.mnt, exist_ok=True)
        with open(self.image, "wb") as f:
            f.truncate(self.size)
        quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
        subprocess.run(["mkfs.ext4", "-q", "-F", self.image], check=True, **quiet)
        subprocess.run(["mount", "-o", "loop", self.image, self.mnt], check=True, **quiet)
        if copy:
            subprocess.run(["cp", "-r", self.src, os.path.join(self.mnt, "src")], check=True)
        os.sync()

    def path(self, name: str) -> str:
        return os.path.join(self.mnt, name)

    def close(self) -> None:
        if os.path.ismount(self.mnt):
            subprocess.run(["umount", self.mnt], check=True)
        if os.path.exists(self.image):
            os.remove(self.image)


def bench_build_plain(assetc: str, name: str, src: str, n: int, peers: bool,
                      peer_again: bool = True) -> dict:
    """Compression off: assetc cold and no-op against cp -r, openssl and collectstatic."""
    work = os.path.join(WORK, name)
    os.makedirs(work, exist_ok=True)
    files = tree_files(src)
    warm(files)
    listing = os.path.join(work, "files.list")
    with open(listing, "wb") as f:
        f.write(b"\0".join(p.encode() for p in files) + b"\0")
    cp_out = os.path.join(work, "cp-out")
    out = os.path.join(work, "out-none")
    static_root = os.path.join(work, "django-manifest")
    build = [assetc, "build", "--input", src, "--output", out, "--codings", "none",
             "--quiet", "--json"]
    tools = [
        Tool("cp", "cp -r", ["cp", "-r", src, cp_out], prep=lambda: rmtree(cp_out)),
        Tool("sha256_1core", "openssl dgst -sha256, 1 core",
             ["bash", "-c", f"xargs -0 -a {listing} openssl dgst -sha256 > /dev/null"]),
        Tool("assetc_cold", "assetc build, cold", build, prep=lambda: rmtree(out),
             check=assetc_report_check(False, len(files))),
        Tool("assetc_noop", "assetc build, no-op", build,
             check=assetc_report_check(True, len(files))),
    ]
    if peers:
        env = django_env(src, static_root,
                         "django.contrib.staticfiles.storage.ManifestStaticFilesStorage")
        tools += [
            Tool("collectstatic_cold", "collectstatic (Manifest), cold", collectstatic_cmd(),
                 prep=lambda: rmtree(static_root), env=env, warmup=False),
        ]
        if peer_again:
            tools.append(Tool("collectstatic_noop", "collectstatic (Manifest), again",
                              collectstatic_cmd(), env=env, warmup=False))
    fresh = FreshFs(work, src, sum(os.path.getsize(f) for f in files))
    if fresh.available():
        fresh_build = [assetc, "build", "--input", fresh.path("src"), "--output",
                       fresh.path("out"), "--codings", "none", "--quiet", "--json"]
        tools += [
            Tool("cp_fresh", "cp -r, fresh ext4", ["cp", "-r", fresh.path("src"),
                                                   fresh.path("dst")], prep=fresh.prepare,
                 warmup=False),
            Tool("assetc_cold_fresh", "assetc build, cold, fresh ext4", fresh_build,
                 prep=fresh.prepare, check=assetc_report_check(False, len(files)),
                 warmup=False),
        ]
    try:
        res = rounds(tools, n, f"{name}, compression off")
    finally:
        fresh.close()
    rmtree(cp_out)
    rmtree(static_root)
    return res


COMPRESS_FLOOR = """
set -euo pipefail
cd {dir}
xargs -0 -a {listing} -P {jobs} -n 32 brotli -q 11 -w 22 -k -f
xargs -0 -a {listing} -P {jobs} -n 32 zstd -19 -T1 -q -k -f --no-check
xargs -0 -a {listing} -P {jobs} -n 32 gzip -9 -n -k -f
"""


def bench_build_compressed(assetc: str, name: str, src: str, n: int, peers: bool) -> dict:
    """Compression on: assetc cold against the CLIs on the same files, and WhiteNoise."""
    work = os.path.join(WORK, name)
    os.makedirs(work, exist_ok=True)
    files = tree_files(src)
    warm(files)
    out = os.path.join(work, "out-all")
    rmtree(out)
    build = [assetc, "build", "--input", src, "--output", out, "--quiet", "--json"]
    timed(build)
    with open(os.path.join(out, "assetc-manifest.json")) as f:
        manifest = json.load(f)
    compressed = sorted(k for k, e in manifest["entries"].items() if e.get("variants"))
    # The floor compresses copies of the very files assetc compressed, in a scratch tree.
    floor_dir = os.path.join(work, "floor")
    floor_list = os.path.join(work, "floor.list")
    with open(floor_list, "wb") as f:
        f.write(b"\0".join(p.encode() for p in compressed) + (b"\0" if compressed else b""))

    def floor_prep():
        rmtree(floor_dir)
        for rel in compressed:
            dst = os.path.join(floor_dir, rel)
            os.makedirs(os.path.dirname(dst), exist_ok=True)
            shutil.copyfile(os.path.join(src, rel), dst)

    static_root = os.path.join(work, "whitenoise")
    tools = [
        Tool("assetc_cold_compressed", "assetc build, cold, br+zstd+gzip", build,
             prep=lambda: rmtree(out), check=assetc_report_check(False, len(files)),
             warmup=False),
        Tool("compress_floor", f"brotli -q 11 + zstd -19 + gzip -9 CLIs, {CORES} jobs",
             ["bash", "-c", COMPRESS_FLOOR.format(dir=floor_dir, listing=floor_list, jobs=CORES)],
             prep=floor_prep, warmup=False),
    ]
    if peers:
        env = django_env(src, static_root,
                         "whitenoise.storage.CompressedManifestStaticFilesStorage")
        tools.append(Tool("whitenoise_cold", "WhiteNoise CompressedManifest, cold",
                          collectstatic_cmd(), prep=lambda: rmtree(static_root), env=env,
                          warmup=False))
    res = rounds(tools, n, f"{name}, compression on")
    res["rounds"] = n
    res["compressed_files"] = len(compressed)
    res["compressed_bytes"] = sum(manifest["entries"][k]["size"] for k in compressed)
    rmtree(floor_dir)
    rmtree(static_root)
    return res


# ---------------------------------------------------------------------------------------
# Serve benchmark


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_get(port: int, path: str, headers=None, timeout=5.0):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        c.request("GET", path, headers=headers or {})
        r = c.getresponse()
        body = r.read()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, body
    finally:
        c.close()


def raise_nofile() -> None:
    """Both servers keep files open (nginx's open_file_cache, assetc's handles of files
    past its memory budget): give them as many descriptors as the kernel allows."""
    try:
        with open("/proc/sys/fs/nr_open") as f:
            limit = int(f.read())
        resource.setrlimit(resource.RLIMIT_NOFILE, (limit, limit))
    except (OSError, ValueError):
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


class Server:
    def __init__(self, name, cmd, port=None, stderr_port=False, cwd=None, nofile=raise_nofile):
        self.name, self.cmd, self.port, self.cwd = name, cmd, port, cwd
        self.nofile = nofile
        self.stderr_port = stderr_port
        self.proc = None
        self.started_s = None
        self.listening_s = None

    def start(self, probe="/", timeout=120.0):
        self.err = tempfile.NamedTemporaryFile(prefix=f"bench-{self.name}-", suffix=".log")
        t0 = time.perf_counter()
        self.proc = subprocess.Popen(self.cmd, stdout=subprocess.DEVNULL, stderr=self.err,
                                     cwd=self.cwd, preexec_fn=self.nofile)
        deadline = t0 + timeout
        while self.port is None:
            if self.proc.poll() is not None or time.perf_counter() > deadline:
                raise Failed(f"{self.name} did not start: {open(self.err.name).read()[-2000:]}")
            m = re.search(r"listening on http://127\.0\.0\.1:(\d+)", open(self.err.name).read())
            if m:
                self.port = int(m.group(1))
                self.listening_s = time.perf_counter() - t0
            else:
                time.sleep(0.002)
        while True:
            if self.proc.poll() is not None or time.perf_counter() > deadline:
                raise Failed(f"{self.name} did not answer: {open(self.err.name).read()[-2000:]}")
            try:
                http_get(self.port, probe, timeout=1.0)
                break
            except OSError:
                time.sleep(0.002)
        self.started_s = time.perf_counter() - t0
        return self

    def rss(self) -> dict:
        out = {}
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                if line.startswith(("VmRSS:", "VmHWM:")):
                    out[line.split(":")[0]] = int(line.split()[1]) * 1024
        return out

    def cpu(self) -> tuple[float, float]:
        """User and kernel CPU seconds of the server and its children (nginx's workers)."""
        tick = os.sysconf("SC_CLK_TCK")
        pids = [self.proc.pid] + [int(p) for p in subprocess.run(
            ["pgrep", "-P", str(self.proc.pid)], capture_output=True, text=True).stdout.split()]
        user = system = 0
        for pid in pids:
            try:
                with open(f"/proc/{pid}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except FileNotFoundError:
                continue
            user, system = user + int(fields[11]), system + int(fields[12])
        return user / tick, system / tick

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def nginx_server(root: str) -> Server:
    d = os.path.join(WORK, "nginx")
    rmtree(d)
    os.makedirs(d)
    port = free_port()
    with open(os.path.join(HERE, "nginx.conf.in")) as f:
        conf = f.read()
    for k, v in {"@WORKERS@": str(CORES), "@DIR@": d, "@PORT@": str(port), "@ROOT@": root}.items():
        conf = conf.replace(k, v)
    path = os.path.join(d, "nginx.conf")
    with open(path, "w") as f:
        f.write(conf)
    return Server("nginx", ["nginx", "-p", d, "-e", os.path.join(d, "error.log"), "-c", path],
                  port=port)


def pick(manifest: dict, want: int, pred) -> str:
    best = min((abs(e["size"] - want), k) for k, e in manifest["entries"].items() if pred(e))
    return best[1]


def serve_cases(manifest: dict) -> list[dict]:
    ents = manifest["entries"]
    small = pick(manifest, 1024, lambda e: e["immutable"])
    big = pick(manifest, 100 * 1024, lambda e: e["immutable"])
    gz = pick(manifest, 30 * 1024, lambda e: e["immutable"] and "gzip" in e.get("variants", {}))
    page = "index.html"
    return [
        {"key": "small", "label": f"~1 KB fingerprinted ({ents[small]['size']} B)",
         "path": "/" + ents[small]["path"], "status": 200},
        {"key": "large", "label": f"~100 KB fingerprinted ({ents[big]['size']} B)",
         "path": "/" + ents[big]["path"], "status": 200},
        {"key": "page", "label": f"HTML page, 200 ({ents[page]['size']} B)",
         "path": "/" + ents[page]["path"], "status": 200},
        {"key": "revalidate", "label": "HTML page, If-None-Match → 304",
         "path": "/" + ents[page]["path"], "status": 304, "inm": True},
        {"key": "gzip", "label": f"gzip-negotiated ({ents[gz]['size']} B → "
                                 f"{ents[gz]['variants']['gzip']['size']} B)",
         "path": "/" + ents[gz]["path"], "status": 200, "accept_encoding": "gzip"},
        {"key": "missing", "label": "404", "path": "/no/such/file.js", "status": 404},
    ]


def check_case(server: Server, case: dict) -> dict:
    """One request before the load: right status and coding; returns the wrk headers."""
    headers = {}
    if case.get("accept_encoding"):
        headers["Accept-Encoding"] = case["accept_encoding"]
    if case.get("inm"):
        status, h, _ = http_get(server.port, case["path"])
        headers["If-None-Match"] = h["etag"]
    status, h, body = http_get(server.port, case["path"], headers)
    if status != case["status"]:
        raise Failed(f"{server.name} {case['path']}: {status}, expected {case['status']}")
    if case.get("accept_encoding") and h.get("content-encoding") != "gzip":
        raise Failed(f"{server.name} {case['path']}: not gzip-encoded: {h}")
    case.setdefault("observed", {})[server.name] = {
        "status": status, "bytes": len(body), "cache_control": h.get("cache-control"),
        "etag": h.get("etag"), "vary": h.get("vary")}
    return headers


def wrk(port: int, case: dict, headers: dict, conns: int, seconds: float) -> dict:
    env = dict(os.environ, BENCH_IF_NONE_MATCH=headers.get("If-None-Match", ""),
               BENCH_ACCEPT_ENCODING=headers.get("Accept-Encoding", ""))
    cmd = ["wrk", f"-t{CORES}", f"-c{conns}", f"-d{max(1, round(seconds))}s", "--timeout", "5s",
           "-s", os.path.join(HERE, "wrk_report.lua"), f"http://127.0.0.1:{port}{case['path']}"]
    p = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=seconds + 60)
    m = re.search(r"BENCH_JSON (\{.*\})", p.stdout)
    if p.returncode != 0 or not m:
        raise Failed(f"wrk failed: {p.stdout}\n{p.stderr}")
    r = json.loads(m.group(1))
    r["rps"] = r["requests"] / (r["duration_us"] / 1e6)
    expected_errors = r["requests"] if case["status"] >= 400 else 0
    r["unexpected_status"] = abs(r["status_errors"] - expected_errors)
    return r


def bench_serve(assetc: str, src: str, rounds_n: int, seconds: float, conns_list) -> dict:
    root = os.path.join(WORK, "serve-root")
    # gzip variants only: what nginx's gzip_static can serve, and quick to build. A build
    # over an unchanged earlier one is a no-op.
    log("serve: building the synthetic 10k corpus with gzip variants")
    timed([assetc, "build", "--input", src, "--output", root, "--codings", "gzip", "--quiet"])
    with open(os.path.join(root, "assetc-manifest.json")) as f:
        manifest = json.load(f)
    cases = serve_cases(manifest)
    servers = [Server("assetc", [assetc, "serve", "--root", root, "--bind", "127.0.0.1:0"]),
               nginx_server(root)]
    results: dict = {"cases": {}, "wrk_threads": CORES, "seconds_per_run": seconds,
                     "rounds": rounds_n}
    try:
        for s in servers:
            s.start(probe=cases[0]["path"])
        headers = {s.name: {c["key"]: check_case(s, c) for c in cases} for s in servers}
        runs: dict = {}
        for r in range(rounds_n):
            for conns in conns_list:
                for c in cases:
                    for s in servers:  # A B, A B: alternating, in one run
                        log(f"serve: round {r + 1}/{rounds_n}, {conns} connections, "
                            f"{c['key']}, {s.name}")
                        before = s.cpu()
                        res = wrk(s.port, c, headers[s.name][c["key"]], conns, seconds)
                        after = s.cpu()
                        # CPU per request: what the throughput cannot show while wrk
                        # shares the cores (both servers pay the same kernel per request).
                        res["user_us"] = (after[0] - before[0]) / res["requests"] * 1e6
                        res["sys_us"] = (after[1] - before[1]) / res["requests"] * 1e6
                        runs.setdefault((c["key"], conns, s.name), []).append(res)
        for s in servers:
            results[f"{s.name}_rss_after_bytes"] = s.rss()["VmRSS"] if s.name == "assetc" else None
    finally:
        for s in servers:
            s.stop()
    for c in cases:
        for conns in conns_list:
            row = {}
            for s in servers:
                rs = runs[(c["key"], conns, s.name)]
                row[s.name] = {
                    "rps": statistics.median(x["rps"] for x in rs),
                    "p50_us": statistics.median(x["p50_us"] for x in rs),
                    "p99_us": statistics.median(x["p99_us"] for x in rs),
                    "user_us": statistics.median(x["user_us"] for x in rs),
                    "sys_us": statistics.median(x["sys_us"] for x in rs),
                    "unexpected_status": sum(x["unexpected_status"] for x in rs),
                    "socket_errors": sum(x["socket_errors"] for x in rs),
                    "runs": rs}
            row["ratio_rps"] = row["assetc"]["rps"] / row["nginx"]["rps"]
            results["cases"][f"{c['key']}@{conns}"] = {
                "case": c["key"], "label": c["label"], "connections": conns,
                "path": c["path"], "observed": c.get("observed"), **row}
    return results


# Chromium 156's Accept-Encoding.
CHROMIUM_ACCEPT_ENCODING = "gzip, deflate, br, zstd, dcb, dcz"


def bench_deploy(assetc: str) -> list[dict]:
    """Per version pair: each changed file's bytes on the wire (the body; headers are the
    same few hundred bytes either way) for a returning visitor who holds the old version,
    without a dictionary and with one."""
    out = []
    for name, old, new, files in prepare.DEPLOY_PAIRS:
        site = os.path.join(WORK, f"deploy-{name}-{old}-{new}")
        rmtree(site)
        src, dst = os.path.join(site, "src"), os.path.join(site, "build")
        logicals = [f"vendor/{os.path.basename(f)}" for f in files]

        def write(version: str) -> dict:
            pkg = prepare.ensure_package(name, version)
            rmtree(src)
            os.makedirs(os.path.join(src, "vendor"))
            for f, logical in zip(files, logicals):
                # With its source map, which the file references (not counted below:
                # browsers fetch maps only with their developer tools open).
                for suffix in ("", ".map"):
                    if os.path.exists(os.path.join(pkg, f + suffix)):
                        shutil.copyfile(os.path.join(pkg, f + suffix),
                                        os.path.join(src, logical + suffix))
            tags = "".join(f'<link rel="stylesheet" href="{l}">' if l.endswith(".css")
                           else f'<script src="{l}"></script>' for l in logicals)
            with open(os.path.join(src, "index.html"), "w") as fh:
                fh.write(f"<!doctype html><title>{name} {version}</title>{tags}\n")
            subprocess.run([assetc, "build", "--input", src, "--output", dst, "--quiet"],
                           check=True)
            with open(os.path.join(dst, "assetc-manifest.json")) as fh:
                return json.load(fh)

        before = write(old)
        log(f"deploy: {name} {old} -> {new}")
        after = write(new)
        server = Server("assetc", [assetc, "serve", "--root", dst, "--bind", "127.0.0.1:0"])
        server.start()
        try:
            for logical in logicals:
                old_path = before["entries"][logical]["path"]
                entry = after["entries"][logical]
                with open(os.path.join(dst, old_path), "rb") as fh:
                    digest = hashlib.sha256(fh.read())
                offer = f":{base64.b64encode(digest.digest()).decode()}:"
                url = "/" + entry["path"]
                _, h_plain, plain = http_get(server.port, url,
                                             {"Accept-Encoding": CHROMIUM_ACCEPT_ENCODING})
                _, h_dict, delta = http_get(server.port, url, {
                    "Accept-Encoding": CHROMIUM_ACCEPT_ENCODING, "Available-Dictionary": offer})
                coding = h_dict.get("content-encoding")
                variant = entry["variants"].get(f"{coding}:{digest.hexdigest()}")
                if variant is None or hashlib.sha256(delta).hexdigest() != variant["sha256"]:
                    raise Failed(f"{logical}: no delta served for {old} -> {new} ({h_dict})")
                out.append({"package": name, "old": old, "new": new, "file": logical,
                            "identity": entry["size"], "coding": h_plain.get("content-encoding"),
                            "without": len(plain), "with_coding": coding, "with": len(delta)})
        finally:
            server.stop()
    return out


def cpu_seconds(pid: int) -> float:
    """User plus system CPU a process has used so far (/proc/PID/stat, clock ticks)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def nofile_1024() -> None:
    """Issue 14's condition: `ulimit -n 1024`, far fewer descriptors than files."""
    resource.setrlimit(resource.RLIMIT_NOFILE, (1024, 1024))


def bench_startup(assetc: str, src: str, n: int) -> dict:
    """`assetc serve` on a large build plus one older kept generation (compression off),
    under `ulimit -n 1024`: wall time and CPU from exec to the first answer, resident memory
    after start and after GETs of many files."""
    root = os.path.join(WORK, "startup-root")
    rmtree(root)
    log(f"startup: building {os.path.basename(src)} twice (compression off)")
    timed([assetc, "build", "--input", src, "--output", root, "--codings", "none", "--quiet"])
    # A second generation: one stylesheet changed renames it and every page using it, and
    # the first build's files stay served as the older kept generation.
    changed = os.path.join(WORK, "startup-src")
    rmtree(changed)
    shutil.copytree(src, changed, copy_function=os.link)
    css = sorted(f for f in tree_files(changed) if f.endswith(".css"))[0]
    with open(css) as f:
        text = f.read()
    os.unlink(css)  # a hard link to the corpus: replace, never write through it
    with open(css, "w") as f:
        f.write(text + "\n/* startup bench: second generation */\n")
    timed([assetc, "build", "--input", changed, "--output", root, "--codings", "none", "--quiet"])
    rmtree(changed)
    with open(os.path.join(root, "assetc-manifest.json")) as f:
        manifest = json.load(f)
    entries = len(manifest["entries"])
    probe = "/" + manifest["entries"]["index.html"]["path"]
    paths = ["/" + e["path"] for e in manifest["entries"].values()]
    get_paths = paths[:: max(1, entries // 10_000)]
    cmd = [assetc, "serve", "--root", root, "--bind", "127.0.0.1:0"]
    samples = []
    for i in range(n):
        s = Server("assetc", cmd, nofile=nofile_1024)
        try:
            s.start(probe=probe)
            cpu = cpu_seconds(s.proc.pid)
            after_start = s.rss()["VmRSS"]
            for path in get_paths:
                http_get(s.port, path)
            mem = s.rss()
            samples.append({"listening_s": s.listening_s, "first_response_s": s.started_s,
                            "cpu_to_first_response_s": cpu, "rss_after_start_bytes": after_start,
                            "rss_after_gets_bytes": mem["VmRSS"], "peak_rss_bytes": mem["VmHWM"]})
        finally:
            s.stop()
    med = lambda key: statistics.median(x[key] for x in samples)
    return {"entries": entries, "generations": 2, "nofile": 1024, "gets": len(get_paths),
            "samples": samples,
            "first_response_s": med("first_response_s"),
            "cpu_to_first_response_s": med("cpu_to_first_response_s"),
            "listening_s": med("listening_s"),
            "rss_bytes": med("rss_after_start_bytes"),
            "rss_after_gets_bytes": med("rss_after_gets_bytes"),
            "peak_rss_bytes": max(x["peak_rss_bytes"] for x in samples)}


# ---------------------------------------------------------------------------------------
# Report


def fmt_t(s: dict | None) -> str:
    if not s:
        return "–"
    if "error" in s:
        return "failed (see JSON)"
    return f"{s['median_s']:.3g} s ({s['peak_rss_bytes'] / MIB:.0f} MiB)"


def ratio(a: dict | None, b: dict | None) -> float | None:
    if not a or not b or "error" in a or "error" in b:
        return None
    return a["median_s"] / b["median_s"]


def fmt_r(r: float | None, goal: str = "") -> str:
    if r is None:
        return "–"
    return f"**{r:.2f}x**{goal}"


def markdown(res: dict) -> str:
    m = res["meta"]
    out = [f"`{m['command']}`, {m['date']}, {m['mode']} run ({m['runs']} rounds per build "
           f"figure, median; peak RSS in parentheses), {m['cpu']}, {m['cores']} cores shared "
           f"with other work: figures are noisy.", ""]
    b = res.get("build", {})
    if b.get("plain"):
        out += ["**Build, compression off** (`--codings none`). Goals: cold ≤ "
                f"{GOAL_COLD_VS_CP}x `cp -r`, no-op ≤ {GOAL_NOOP_VS_HASH}x SHA-256 on one core, "
                f"collectstatic ≥ {GOAL_PEER_SPEEDUP:.0f}x slower.", "",
                "| corpus | files | MiB | `cp -r` | `openssl dgst -sha256` (1 core) | assetc cold "
                "| cold / cp | assetc no-op | no-op / sha256 | collectstatic cold | "
                "collectstatic / assetc | collectstatic again / assetc no-op |",
                "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
        for name, r in b["plain"].items():
            c = res["corpora"][name]
            out.append(
                f"| {name} | {c['files']} | {c['bytes'] / MIB:.0f} | {fmt_t(r.get('cp'))} | "
                f"{fmt_t(r.get('sha256_1core'))} | {fmt_t(r.get('assetc_cold'))} | "
                f"{fmt_r(ratio(r.get('assetc_cold'), r.get('cp')))} | "
                f"{fmt_t(r.get('assetc_noop'))} | "
                f"{fmt_r(ratio(r.get('assetc_noop'), r.get('sha256_1core')))} | "
                f"{fmt_t(r.get('collectstatic_cold'))} | "
                f"{fmt_r(ratio(r.get('collectstatic_cold'), r.get('assetc_cold')))} | "
                f"{fmt_r(ratio(r.get('collectstatic_noop'), r.get('assetc_noop')))} |")
        fresh = [(name, r) for name, r in b["plain"].items() if "cp_fresh" in r]
        if fresh:
            out += ["", "On a file system made just before each run (a new ext4 image, "
                    "loop-mounted, the corpus copied in first and warm in the page cache), "
                    "where only creating files costs the kernel:", "",
                    "| corpus | `cp -r` | assetc cold | cold / cp |", "|---|---:|---:|---:|"]
            for name, r in fresh:
                out.append(f"| {name} | {fmt_t(r.get('cp_fresh'))} | "
                           f"{fmt_t(r.get('assetc_cold_fresh'))} | "
                           f"{fmt_r(ratio(r.get('assetc_cold_fresh'), r.get('cp_fresh')))} |")
        out.append("")
    if b.get("compressed"):
        rounds_c = sorted({r["rounds"] for r in b["compressed"].values()})
        out += ["**Build, compression on** (br q11, zstd 19, gzip 9 of every compressible file "
                "≥ 1 KiB; the CLIs get the same files and as many parallel jobs as cores; "
                f"{'/'.join(map(str, rounds_c))} round(s), no warm-up).", "",
                "| corpus | compressed files | MiB | CLI floor | assetc cold | assetc / floor | "
                "WhiteNoise cold | WhiteNoise / assetc |",
                "|---|---:|---:|---:|---:|---:|---:|---:|"]
        for name, r in b["compressed"].items():
            out.append(
                f"| {name} | {r['compressed_files']} | {r['compressed_bytes'] / MIB:.1f} | "
                f"{fmt_t(r.get('compress_floor'))} | {fmt_t(r.get('assetc_cold_compressed'))} | "
                f"{fmt_r(ratio(r.get('assetc_cold_compressed'), r.get('compress_floor')))} | "
                f"{fmt_t(r.get('whitenoise_cold'))} | "
                f"{fmt_r(ratio(r.get('whitenoise_cold'), r.get('assetc_cold_compressed')))} |")
        out.append("")
    s = res.get("serve")
    if s:
        out += [f"**Serve** (synth-10k build; wrk -t{s['wrk_threads']}, {s['seconds_per_run']} s "
                f"per run, {s['rounds']} rounds alternating assetc / nginx, median; **wrk and the "
                f"server share the same {m['cores']} cores**). Goal: assetc/nginx ≥ 1 everywhere.",
                "", "CPU per request is the server's, user + kernel, from /proc, over the same runs.",
                "", "| case | conns | assetc req/s | nginx req/s | assetc / nginx | "
                "assetc p50 / p99 | nginx p50 / p99 | CPU µs/req assetc | CPU µs/req nginx |",
                "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
        for key, r in s["cases"].items():
            a, n = r["assetc"], r["nginx"]
            bad = ""
            if a["unexpected_status"] or n["unexpected_status"]:
                bad = f" ⚠ unexpected statuses: assetc {a['unexpected_status']}, nginx {n['unexpected_status']}"
            out.append(
                f"| {r['label']}{bad} | {r['connections']} | {a['rps']:,.0f} | {n['rps']:,.0f} | "
                f"**{r['ratio_rps']:.2f}x** | {a['p50_us'] / 1000:.2f} / {a['p99_us'] / 1000:.2f} ms | "
                f"{n['p50_us'] / 1000:.2f} / {n['p99_us'] / 1000:.2f} ms | "
                f"{a['user_us']:.1f} + {a['sys_us']:.1f} | {n['user_us']:.1f} + {n['sys_us']:.1f} |")
        out.append("")
    d = res.get("deploy")
    if d:
        out += ["**Returning visitor after a deploy** (bytes of each changed file's body on the "
                "wire, for a browser holding the old version; `Accept-Encoding` as Chromium "
                "sends it; with dictionaries it also sends `Available-Dictionary`).", "",
                "| package | update | file | identity | without dictionaries | with dictionaries "
                "| saved |", "|---|---|---|---:|---:|---:|---:|"]
        for (pkg, old, new) in dict.fromkeys((r["package"], r["old"], r["new"]) for r in d):
            rows = [r for r in d if (r["package"], r["old"], r["new"]) == (pkg, old, new)]
            for r in rows:
                out.append(
                    f"| {pkg} | {old} → {new} | `{r['file']}` | {r['identity']:,} "
                    f"| {r['without']:,} ({r['coding']}) | {r['with']:,} ({r['with_coding']}) | "
                    f"{100 * (1 - r['with'] / r['without']):.0f} % |")
            if len(rows) > 1:
                without, with_ = sum(r["without"] for r in rows), sum(r["with"] for r in rows)
                out.append(f"| {pkg} | {old} → {new} | **all {len(rows)} files** | "
                           f"{sum(r['identity'] for r in rows):,} | {without:,} | {with_:,} | "
                           f"{100 * (1 - with_ / without):.0f} % |")
        out.append("")
    for key in ("serve_error", "startup_error", "deploy_error"):
        if res.get(key):
            out += [f"**{key.split('_')[0].capitalize()} benchmark failed:** "
                    f"`{res[key].splitlines()[0][:300]}`", ""]
    st = res.get("startup")
    if st:
        out += [f"**`assetc serve` start-up** on a {st['entries']:,}-entry build plus one older "
                f"kept generation (compression off, `ulimit -n {st['nofile']}`). Goals: first "
                "answer < 1 s after exec, RSS < 150 MiB after start, < 200 MiB after GETs. "
                f"Listening after {st['listening_s']:.2f} s, first answer after "
                f"{st['first_response_s']:.2f} s ({st['cpu_to_first_response_s']:.2f} s of CPU), "
                f"resident memory {st['rss_bytes'] / MIB:.0f} MiB after start and "
                f"{st['rss_after_gets_bytes'] / MIB:.0f} MiB after {st['gets']:,} GETs (peak "
                f"{st['peak_rss_bytes'] / MIB:.0f} MiB), median of {len(st['samples'])}.", ""]
    return "\n".join(out)


def corpus_info(path: str) -> dict:
    files = tree_files(path)
    return {"path": os.path.relpath(path, ROOT), "files": len(files),
            "bytes": sum(os.path.getsize(f) for f in files)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="a short run (a few minutes)")
    ap.add_argument("--only", choices=["build", "serve", "startup", "deploy"])
    ap.add_argument("--assetc", default=os.path.join(ROOT, "target", "release", "assetc"))
    ap.add_argument("--runs", type=int, help="timed rounds per build figure")
    ap.add_argument("--seconds", type=float, help="seconds per wrk run")
    ap.add_argument("--corpus", action="append", help="only these build corpora (repeatable)")
    args = ap.parse_args()
    quick = args.quick
    runs = args.runs or (3 if quick else 5)
    seconds = args.seconds or (2 if quick else 5)
    synth = [10_000] if quick else [10_000, 100_000]
    if not os.access(args.assetc, os.X_OK):
        sys.exit(f"error: `{args.assetc}` is not built; run `cargo build --release` first")
    assetc = os.path.abspath(args.assetc)
    # The deploy figures need only their packages (prepare.ensure_package).
    if args.only == "deploy":
        corpora = {}
    elif args.only == "startup":
        # Issue 14's start-up case: the 100,000-file synthetic tree only.
        os.makedirs(prepare.CORPUS, exist_ok=True)
        corpora = {"synth-100k": prepare.ensure_synth(100_000)}
    elif args.only == "serve":
        # The serve figures need only the synthetic corpora (no venv, npm or Sphinx).
        prepare.ensure_apt()
        os.makedirs(prepare.CORPUS, exist_ok=True)
        corpora = {f"synth-{n // 1000}k": prepare.ensure_synth(n) for n in synth}
    else:
        corpora = prepare.prepare(synth)
    os.makedirs(WORK, exist_ok=True)
    mode = "quick" if quick else "full"
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo")
                if l.startswith("model name")), platform.processor())
    res: dict = {"meta": {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "mode": mode, "command": "just bench-quick" if quick else "just bench",
        "runs": runs, "cores": CORES, "cpu": cpu,
        "assetc": subprocess.run([assetc, "--version"], capture_output=True, text=True).stdout.strip(),
        "git": subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"],
                              capture_output=True, text=True).stdout.strip(),
        "nginx": subprocess.run(["nginx", "-v"], capture_output=True, text=True).stderr.strip(),
    }, "corpora": {k: corpus_info(v) for k, v in corpora.items()}}
    if args.only in (None, "deploy"):
        try:
            res["deploy"] = bench_deploy(assetc)
        except (Failed, subprocess.CalledProcessError) as e:
            res["deploy_error"] = str(e)
            log(f"deploy benchmark failed: {e}")
    if args.only in (None, "build"):
        plain, compressed = {}, {}
        # br at quality 11 runs near 1 MB/s per core: the compressed comparison takes the
        # real corpora only, and one round of the smallest in a quick run.
        plain_names = [n for n in corpora if n != "npm-min"]
        compressed_names = ["npm-min"] if quick else ["npm-min", "docs", "npm"]
        for name in plain_names:
            if not args.corpus or name in args.corpus:
                plain[name] = bench_build_plain(assetc, name, corpora[name], runs, peers=True,
                                                peer_again=not quick)
        for name in compressed_names:
            if not args.corpus or name in args.corpus:
                compressed[name] = bench_build_compressed(
                    assetc, name, corpora[name], 1 if quick else runs, peers=True)
        res["build"] = {"plain": plain, "compressed": compressed}
    if args.only in (None, "serve"):
        try:
            res["serve"] = bench_serve(assetc, corpora["synth-10k"], 2, seconds, [64, 256])
        except Failed as e:
            res["serve_error"] = str(e)
            log(f"serve benchmark failed: {e}")
    if args.only in (None, "serve", "startup"):
        if "synth-100k" in corpora:
            try:
                res["startup"] = bench_startup(assetc, corpora["synth-100k"], 3)
            except Failed as e:
                res["startup_error"] = str(e)
                log(f"start-up benchmark failed: {e}")
    table = markdown(res)
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    for path in (os.path.join(BENCH, f"results-{mode}-{stamp}.json"),
                 os.path.join(BENCH, f"latest-{mode}.json")):
        with open(path, "w") as f:
            json.dump(res, f, indent=1, default=str)
    with open(os.path.join(BENCH, f"latest-{mode}.md"), "w") as f:
        f.write(table + "\n")
    print(table)
    log(f"wrote {os.path.relpath(os.path.join(BENCH, f'latest-{mode}.json'), ROOT)} and "
        f"results-{mode}-{stamp}.json")


if __name__ == "__main__":
    main()
