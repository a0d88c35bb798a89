"""`Manifest`: reads `assetc-manifest.json` (schema version 1, ARCHITECTURE.md "The manifest"),
answers asset URLs, integrity and tags, and follows `assetc build`'s atomic swaps by itself."""

from __future__ import annotations

import difflib
import html
import json
import logging
import os
import posixpath
import threading
import time
from dataclasses import dataclass, field
from typing import Dict, Iterator, List, Mapping, Optional, Tuple

from ._urls import encode_path, is_cross_origin

__all__ = [
    "MANIFEST_FILE_NAME",
    "MANIFEST_VERSION",
    "Entry",
    "HTML",
    "Manifest",
    "ManifestError",
    "UnknownAsset",
    "Variant",
]

#: The manifest's file name at the root of a build.
MANIFEST_FILE_NAME = "assetc-manifest.json"
#: The schema version this package reads; it refuses any other.
MANIFEST_VERSION = 1
#: Seconds between two looks at the manifest on disk, by default.
DEFAULT_RELOAD_INTERVAL = 1.0

_log = logging.getLogger("assetc")

_JS_TYPES = ("text/javascript", "application/javascript", "application/ecmascript", "text/ecmascript")


class ManifestError(Exception):
    """The manifest cannot be read: missing, not JSON, not a manifest, or a version this
    package does not know."""

    def __init__(self, message: str, path: Optional[str] = None) -> None:
        super().__init__(message)
        self.path = path


class UnknownAsset(KeyError):
    """A logical path the manifest does not list (strict mode). Names the path, the manifest
    and the closest logical paths it does list."""

    def __init__(self, logical: str, manifest_path: str, suggestions: Tuple[str, ...]) -> None:
        super().__init__(logical)
        self.logical = logical
        self.manifest_path = manifest_path
        self.suggestions = suggestions

    def __str__(self) -> str:
        message = f"`{self.logical}` is not in the manifest `{self.manifest_path}`"
        if self.suggestions:
            close = ", ".join(f"`{s}`" for s in self.suggestions)
            return f"{message}; did you mean {close}?"
        return f"{message} (is the file in the build's input? run `assetc build` after adding it)"


class HTML(str):
    """Markup that is already escaped. Jinja2/MarkupSafe and Django both honour `__html__`,
    so templates print it as it is; the framework glue also wraps it in their own types."""

    __slots__ = ()

    def __html__(self) -> str:
        return str(self)


@dataclass(frozen=True)
class Variant:
    """A precompressed representation stored beside an entry (`<path>.br`, ...)."""

    etag: str
    path: str
    sha256: str
    size: int


@dataclass(frozen=True)
class Entry:
    """One source file as built: the manifest's entry for a logical path."""

    logical: str
    path: str
    immutable: bool
    content_type: str = ""
    etag: str = ""
    integrity: str = ""
    last_modified: int = 0
    references: Tuple[str, ...] = ()
    sha256: str = ""
    size: int = 0
    variants: Mapping[str, Variant] = field(default_factory=dict)

    @property
    def is_script(self) -> bool:
        return self.content_type.split(";")[0].strip().lower() in _JS_TYPES

    @property
    def is_stylesheet(self) -> bool:
        return self.content_type.split(";")[0].strip().lower() == "text/css"


@dataclass(frozen=True)
class _Snapshot:
    """One loaded manifest: replaced whole on reload, so a reader never sees half of one."""

    base_url: str
    entries: Mapping[str, Entry]
    identity: Optional[Tuple[int, ...]]


_EMPTY = _Snapshot(base_url="", entries={}, identity=None)


def _identity(st: os.stat_result) -> Tuple[int, ...]:
    # A build swaps in a whole new directory, so a new manifest is a new inode; mtime, ctime
    # and size catch an inode number reused after an old tree was removed.
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


def _parse(data: bytes, path: str, identity: Tuple[int, ...]) -> _Snapshot:
    try:
        doc = json.loads(data)
    except (ValueError, UnicodeDecodeError) as e:
        raise ManifestError(f"the manifest `{path}` is not valid JSON: {e}", path) from None
    if not isinstance(doc, dict) or "entries" not in doc and "version" not in doc:
        raise ManifestError(f"`{path}` is not an assetc manifest (no `version`, no `entries`)", path)
    version = doc.get("version")
    if type(version) is not int or version != MANIFEST_VERSION:
        found = f"version `{json.dumps(version)}`" if "version" in doc else "no `version`"
        hint = (
            "upgrade this package (`pip install -U assetc`) to read it"
            if type(version) is int and version > MANIFEST_VERSION
            else "rebuild it with `assetc build`"
        )
        raise ManifestError(
            f"the manifest `{path}` has {found}, and this assetc package reads "
            f"version {MANIFEST_VERSION} only: {hint}",
            path,
        )
    base_url = doc.get("base_url", "/")
    raw_entries = doc.get("entries")
    if not isinstance(base_url, str) or not isinstance(raw_entries, dict):
        raise ManifestError(f"the manifest `{path}` needs a string `base_url` and an object `entries`", path)
    entries: Dict[str, Entry] = {}
    for logical, raw in raw_entries.items():
        try:
            variants = {
                coding: Variant(
                    etag=str(v.get("etag", "")),
                    path=str(v["path"]),
                    sha256=str(v.get("sha256", "")),
                    size=int(v.get("size", 0)),
                )
                for coding, v in (raw.get("variants") or {}).items()
            }
            entries[logical] = Entry(
                logical=logical,
                path=str(raw["path"]),
                immutable=bool(raw.get("immutable", False)),
                content_type=str(raw.get("content_type", "")),
                etag=str(raw.get("etag", "")),
                integrity=str(raw.get("integrity") or ""),
                last_modified=int(raw.get("last_modified", 0)),
                references=tuple(str(r) for r in raw.get("references", ())),
                sha256=str(raw.get("sha256", "")),
                size=int(raw.get("size", 0)),
                variants=variants,
            )
        except (AttributeError, KeyError, TypeError, ValueError):
            raise ManifestError(
                f"the manifest `{path}` has a malformed entry `{logical}` (every entry needs a `path`)",
                path,
            ) from None
    return _Snapshot(base_url=base_url, entries=entries, identity=identity)


def _read(path: str) -> _Snapshot:
    """Reads and parses the manifest at `path`; the identity recorded is the file actually
    read (fstat of the open file), so a swap between stat and open is seen next time."""
    try:
        with open(path, "rb") as f:
            identity = _identity(os.fstat(f.fileno()))
            data = f.read()
    except FileNotFoundError:
        raise ManifestError(
            f"the manifest `{path}` does not exist: run `assetc build` first "
            "(or load it with `strict=False` to fall back to logical paths until then)",
            path,
        ) from None
    except OSError as e:
        reason = (e.strerror or str(e)).lower()
        raise ManifestError(f"cannot read the manifest `{path}`: {reason}", path) from None
    return _parse(data, path, identity)


class Manifest:
    """A build's manifest, answering what templates need: `url()`, `integrity()`, `entry()`
    and `tags()`.

    `path` is `assetc-manifest.json` or the build directory holding it. In strict mode (the
    default) the manifest must exist and an unknown logical path raises `UnknownAsset` (a
    `KeyError`); with `strict=False` a manifest not built yet, or a path it does not list, falls
    back to the logical path under `fallback_base_url` (development before a first build). A
    manifest that exists but cannot be read (another version, not JSON) is always an error.

    The manifest on disk is looked at (one `stat` of its path) at most every
    `reload_interval` seconds, and only when a lookup happens; when `assetc build` has swapped
    in a new build it is read again, so a running app follows deploys without a restart.
    `reload_interval=None` never looks again (`reload()` still does).
    """

    def __init__(
        self,
        path: "os.PathLike[str] | str",
        *,
        strict: bool = True,
        reload_interval: Optional[float] = DEFAULT_RELOAD_INTERVAL,
        fallback_base_url: Optional[str] = None,
    ) -> None:
        path = os.path.abspath(os.fspath(path))
        if os.path.isdir(path):
            path = os.path.join(path, MANIFEST_FILE_NAME)
        if reload_interval is not None and reload_interval < 0:
            raise ValueError(f"`reload_interval` must be 0 or more seconds, not `{reload_interval}`")
        self.path = path
        self.strict = strict
        self.reload_interval = reload_interval
        self._fallback_base_url = fallback_base_url
        self._lock = threading.Lock()
        self._warned_paths: set = set()
        self._warned_errors: set = set()
        try:
            self._snapshot = _read(path)
        except ManifestError as e:
            # Not strict tolerates a manifest not built yet, never one that is wrong.
            if strict or os.path.lexists(path):
                raise
            _log.warning("%s; asset URLs fall back to logical paths", e)
            self._snapshot = _EMPTY
        self._next_check = self._deadline()

    @classmethod
    def load(
        cls,
        path: "os.PathLike[str] | str",
        *,
        strict: bool = True,
        reload_interval: Optional[float] = DEFAULT_RELOAD_INTERVAL,
        fallback_base_url: Optional[str] = None,
    ) -> "Manifest":
        """Reads the manifest at `path` (see the class); raises `ManifestError` when it cannot
        (in strict mode), including for a schema version this package does not know."""
        return cls(
            path,
            strict=strict,
            reload_interval=reload_interval,
            fallback_base_url=fallback_base_url,
        )

    def __repr__(self) -> str:
        return f"<assetc.Manifest {self.path!r} ({len(self._current().entries)} entries)>"

    # -- reloading --------------------------------------------------------------------

    def _deadline(self) -> float:
        if self.reload_interval is None:
            return float("inf")
        return time.monotonic() + self.reload_interval

    def _current(self) -> _Snapshot:
        if time.monotonic() >= self._next_check:
            self._maybe_reload()
        return self._snapshot

    def _maybe_reload(self) -> None:
        # One thread looks; the others go on with the snapshot they have.
        if not self._lock.acquire(blocking=False):
            return
        try:
            if time.monotonic() < self._next_check:
                return
            try:
                identity = _identity(os.stat(self.path))
            except OSError:
                identity = None
            if identity is not None and identity == self._snapshot.identity:
                return
            self._load_now(quiet_if_missing=identity is None and self._snapshot is _EMPTY)
        finally:
            self._next_check = self._deadline()
            self._lock.release()

    def _load_now(self, quiet_if_missing: bool = False) -> bool:
        try:
            snapshot = _read(self.path)
        except ManifestError as e:
            # Keep answering from the last good manifest: a broken or vanished build must
            # not take the app's pages down with it.
            key = str(e)
            if not quiet_if_missing and key not in self._warned_errors:
                self._warned_errors.add(key)
                _log.error("%s; still using the manifest loaded before", e)
            return False
        self._warned_errors.clear()
        if snapshot.identity != self._snapshot.identity:
            _log.info("loaded the manifest `%s` (%d entries)", self.path, len(snapshot.entries))
        self._snapshot = snapshot
        return True

    def reload(self) -> bool:
        """Reads the manifest now (a signal handler or deploy hook may call this). Returns
        whether it was read; on failure the previous manifest stays in use."""
        with self._lock:
            try:
                return self._load_now()
            finally:
                self._next_check = self._deadline()

    # -- lookups ----------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        """The build's `--base-url`, which every URL starts with."""
        snapshot = self._current()
        if snapshot is _EMPTY:
            return self._fallback_base_url if self._fallback_base_url is not None else "/"
        return snapshot.base_url

    @property
    def paths(self) -> Tuple[str, ...]:
        """Every logical path the manifest lists, sorted."""
        return tuple(sorted(self._current().entries))

    def __contains__(self, logical: object) -> bool:
        return logical in self._current().entries

    def __iter__(self) -> Iterator[str]:
        return iter(self.paths)

    def __len__(self) -> int:
        return len(self._current().entries)

    def entry(self, logical: str) -> Optional[Entry]:
        """The manifest's entry for `logical`. Unknown: `UnknownAsset` in strict mode, else `None`."""
        snapshot = self._current()
        found = snapshot.entries.get(logical)
        if found is None:
            self._missing(logical, snapshot)
        return found

    def url(self, logical: str) -> str:
        """The URL to put in a page: the base URL plus the served (fingerprinted) path,
        percent-encoded exactly as `assetc build` writes references."""
        snapshot = self._current()
        found = snapshot.entries.get(logical)
        if found is None:
            self._missing(logical, snapshot)
            return self._fallback_base(snapshot) + encode_path(logical.lstrip("/"))
        return snapshot.base_url + encode_path(found.path)

    def integrity(self, logical: str) -> Optional[str]:
        """The Subresource Integrity value (`sha384-…` for scripts and stylesheets,
        `sha256-…` for other files), or `None` where the build has none
        (or, with `strict=False`, for a path the manifest does not list)."""
        snapshot = self._current()
        found = snapshot.entries.get(logical)
        if found is None:
            self._missing(logical, snapshot)
            return None
        return found.integrity or None

    def tags(self, logical: str, *, preload: bool = True) -> HTML:
        """The HTML that loads `logical`: `<link rel="stylesheet">` for CSS; for JavaScript,
        `<script type="module">` plus a `<link rel="modulepreload">` for every module it
        imports, directly or not (the manifest's `references`). Each carries `integrity`, and
        `crossorigin` when the base URL is another origin. Every value is HTML-escaped."""
        snapshot = self._current()
        found = snapshot.entries.get(logical)
        if found is None:
            self._missing(logical, snapshot)
            base = self._fallback_base(snapshot)
            url = base + encode_path(logical.lstrip("/"))
            ext = posixpath.splitext(logical)[1].lower()
            if ext == ".css":
                return HTML(_stylesheet(url, "", is_cross_origin(base)))
            if ext in (".js", ".mjs"):
                return HTML(_script(url, "", is_cross_origin(base)))
            raise ValueError(f"`{logical}` is not a script or stylesheet: use `asset_url` for it")
        cross = is_cross_origin(snapshot.base_url)
        url = snapshot.base_url + encode_path(found.path)
        if found.is_stylesheet:
            return HTML(_stylesheet(url, found.integrity, cross))
        if not found.is_script:
            raise ValueError(
                f"`{logical}` is `{found.content_type}`, not a script or stylesheet: "
                "use `asset_url` for it"
            )
        lines = [_script(url, found.integrity, cross)]
        if preload:
            for dep in _imported_modules(snapshot, found):
                dep_url = snapshot.base_url + encode_path(dep.path)
                lines.append(_link("modulepreload", dep_url, dep.integrity, cross))
        return HTML("\n".join(lines))

    # -- helpers ----------------------------------------------------------------------

    def _fallback_base(self, snapshot: _Snapshot) -> str:
        if self._fallback_base_url is not None:
            return self._fallback_base_url
        return snapshot.base_url if snapshot is not _EMPTY else "/"

    def _missing(self, logical: str, snapshot: _Snapshot) -> None:
        """Raises for an unknown path in strict mode; warns once per path otherwise."""
        if self.strict:
            raise UnknownAsset(logical, self.path, _close_matches(logical, snapshot.entries))
        if snapshot is not _EMPTY and logical not in self._warned_paths:
            self._warned_paths.add(logical)
            _log.warning("`%s` is not in the manifest `%s`; using its logical path", logical, self.path)


def _close_matches(logical: str, entries: Mapping[str, Entry]) -> Tuple[str, ...]:
    """Up to three known logical paths near `logical`: the same file name elsewhere first,
    then what difflib finds similar."""
    if not isinstance(logical, str):
        return ()
    name = posixpath.basename(logical.rstrip("/"))
    same_name = sorted(k for k in entries if name and posixpath.basename(k) == name)
    similar = difflib.get_close_matches(logical, list(entries), n=3, cutoff=0.7)
    out: List[str] = []
    for k in same_name + similar:
        if k not in out and k != logical:
            out.append(k)
    return tuple(out[:3])


def _imported_modules(snapshot: _Snapshot, root: Entry) -> List[Entry]:
    """The JavaScript modules `root` imports, transitively, in depth-first order of first
    appearance (each once; cycles end). Only scripts are followed: an image a module
    references is not a module to preload."""
    seen = {root.logical}
    out: List[Entry] = []
    stack = [iter(root.references)]
    while stack:
        nxt = next(stack[-1], None)
        if nxt is None:
            stack.pop()
            continue
        if nxt in seen:
            continue
        seen.add(nxt)
        dep = snapshot.entries.get(nxt)
        if dep is None or not dep.is_script:
            continue
        out.append(dep)
        stack.append(iter(dep.references))
    return out


def _attrs(integrity: str, cross: bool) -> str:
    out = ""
    if integrity:
        out += f' integrity="{html.escape(integrity)}"'
    if cross:
        out += ' crossorigin="anonymous"'
    return out


def _link(rel: str, url: str, integrity: str, cross: bool) -> str:
    return f'<link rel="{rel}" href="{html.escape(url)}"{_attrs(integrity, cross)}>'


def _stylesheet(url: str, integrity: str, cross: bool) -> str:
    return _link("stylesheet", url, integrity, cross)


def _script(url: str, integrity: str, cross: bool) -> str:
    return f'<script type="module" src="{html.escape(url)}"{_attrs(integrity, cross)}></script>'


# Tracebacks and reprs name the public module, where users import these from.
for _public in (ManifestError, UnknownAsset, HTML, Variant, Entry, Manifest):
    _public.__module__ = "assetc"
del _public
