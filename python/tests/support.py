"""Test helpers: run the real `assetc` binary, start servers on 127.0.0.1 and wait for them with
deadlines, fetch over HTTP. Every loop here is bounded; every process started is stopped."""

from __future__ import annotations

import contextlib
import html
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Callable, Dict, Iterator, List, Optional, Sequence, Tuple, TypeVar

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"
VENV_BIN = Path(sys.executable).parent
IMMUTABLE = "public, max-age=31536000, immutable"

T = TypeVar("T")


def assetc_bin() -> Path:
    """The `assetc` the wheel put beside this interpreter (the test venv's `bin/`)."""
    found = shutil.which("assetc", path=str(VENV_BIN))
    if not found:
        raise RuntimeError(
            f"no `assetc` in `{VENV_BIN}`: install the wheel into this environment "
            "(`just test-python` builds and installs it)"
        )
    return Path(found)


def child_env(**extra: str) -> Dict[str, str]:
    """This environment less any `ASSETC_*` setting and `PORT` (both change what assetc does),
    with the test venv's `bin/` first on PATH."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSETC_") and k != "PORT"}
    env["PATH"] = f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}"
    env["NO_COLOR"] = "1"
    env.update(extra)
    return env


def run_assetc(*args: str, cwd: Path, timeout: float = 60) -> subprocess.CompletedProcess:
    """Runs the real binary; fails the test with its stderr when it fails."""
    run = subprocess.run(
        [str(assetc_bin()), *args],
        cwd=cwd,
        env=child_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if run.returncode != 0:
        raise AssertionError(f"`assetc {' '.join(args)}` failed ({run.returncode}):\n{run.stderr}")
    return run


def build(cwd: Path, input: str = "src", output: str = "build", base_url: Optional[str] = None, *extra: str) -> dict:
    """`assetc build` in `cwd`; returns the manifest it wrote, as JSON."""
    args = ["build", "--input", input, "--output", output, "--quiet", *extra]
    if base_url is not None:
        args += ["--base-url", base_url]
    run_assetc(*args, cwd=cwd)
    return json.loads((cwd / output / "assetc-manifest.json").read_text("utf-8"))


def write_tree(root: Path, files: Dict[str, "str | bytes"]) -> None:
    for name, content in files.items():
        p = root / name
        p.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            p.write_bytes(content)
        else:
            p.write_text(content, "utf-8")


def free_port() -> int:
    """A port free on 127.0.0.1 now (the kernel's pick for port 0)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(what: str, check: Callable[[], Optional[T]], timeout: float, interval: float = 0.05) -> T:
    """Polls `check` until it returns something other than None, for at most `timeout` seconds."""
    deadline = time.monotonic() + timeout
    last_error: Optional[BaseException] = None
    while True:
        try:
            result = check()
            if result is not None:
                return result
        except AssertionError:
            raise
        except Exception as e:  # noqa: BLE001 - the last one is reported on timeout
            last_error = e
        if time.monotonic() >= deadline:
            detail = f" (last error: {last_error!r})" if last_error else ""
            raise AssertionError(f"timed out after {timeout} s waiting for {what}{detail}")
        time.sleep(interval)


class Response:
    def __init__(self, status: int, headers: Dict[str, str], body: bytes) -> None:
        self.status = status
        self.headers = headers
        self.body = body

    @property
    def text(self) -> str:
        return self.body.decode("utf-8")


def get(url: str, timeout: float = 10, headers: Optional[Dict[str, str]] = None) -> Response:
    """One GET without redirects or proxies; HTTP errors are responses too."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    req = urllib.request.Request(url, headers=headers or {})
    try:
        with opener.open(req, timeout=timeout) as r:
            return Response(r.status, {k.lower(): v for k, v in r.headers.items()}, r.read())
    except urllib.error.HTTPError as e:
        return Response(e.code, {k.lower(): v for k, v in e.headers.items()}, e.read())


class Process:
    """A server process whose output goes to a log file; `stop()` ends it (SIGTERM, then
    SIGKILL after a bounded wait)."""

    def __init__(self, name: str, argv: Sequence[str], cwd: Path, env: Dict[str, str], log_dir: Path) -> None:
        self.name = name
        self.log_path = log_dir / f"{name}.log"
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(
            list(argv), cwd=cwd, env=env, stdout=self._log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
        )

    def output(self) -> str:
        self._log.flush()
        return self.log_path.read_text("utf-8", errors="replace")

    def alive(self) -> bool:
        return self.proc.poll() is None

    def wait_http(self, url: str, timeout: float = 30) -> Response:
        """Waits until `url` answers at all (any status), failing early if the process exits."""

        def ready() -> Optional[Response]:
            if not self.alive():
                raise AssertionError(
                    f"{self.name} exited ({self.proc.returncode}) before answering {url}:\n{self.output()}"
                )
            try:
                return get(url, timeout=2)
            except OSError:
                return None

        return wait_for(f"{self.name} to answer {url}", ready, timeout)

    def stop(self) -> None:
        if self.alive():
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self._log.close()


@contextlib.contextmanager
def processes() -> Iterator[List[Process]]:
    """Collects processes started in the block and stops them all at its end, even on failure."""
    started: List[Process] = []
    try:
        yield started
    finally:
        for p in reversed(started):
            p.stop()


def start_asset_origin(site: Path, log_dir: Path, started: List[Process], build_args: Sequence[str] = ()) -> Tuple[str, dict, Process]:
    """Builds `site` (its assetc.toml in force) for an origin on a free port, then starts the
    real `assetc serve` there. A port taken between choosing and binding is retried, boundedly."""
    last = ""
    for _attempt in range(3):
        port = free_port()
        origin = f"http://127.0.0.1:{port}"
        manifest = build(site, "assets", "build", f"{origin}/", *build_args)
        serve = Process(
            f"assetc-serve-{port}",
            [str(assetc_bin()), "serve", "--root", "build", "--bind", f"127.0.0.1:{port}",
             "--workers", "1", "--watch-interval", "200ms", "--shutdown-timeout", "2"],
            cwd=site,
            env=child_env(),
            log_dir=log_dir,
        )
        started.append(serve)
        try:
            serve.wait_http(f"{origin}/__ready", timeout=20)
            return origin, manifest, serve
        except AssertionError:
            last = serve.output()
            if "in use" not in last.lower():
                raise
            serve.stop()
            started.remove(serve)
    raise AssertionError(f"assetc serve found no free port in 3 tries:\n{last}")


_URL_ATTR = re.compile(r'\b(?:src|href)="([^"]*)"')


def page_urls(page: str, origin: str) -> List[str]:
    """The `src`/`href` URLs in `page` that point at `origin`, unescaped, in order."""
    return [html.unescape(u) for u in _URL_ATTR.findall(page) if html.unescape(u).startswith(origin + "/")]
