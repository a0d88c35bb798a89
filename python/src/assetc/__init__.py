"""assetc for Python apps: read the manifest `assetc build` writes and put fingerprinted URLs,
integrity values and tags into templates (Flask, FastAPI/Starlette, Django, plain Jinja2).

The `assetc` command itself comes with this package's wheel; nothing here runs it.

    >>> from assetc import Manifest
    >>> manifest = Manifest.load("build/assetc-manifest.json")
    >>> manifest.url("css/site.css")
    '/css/site.Xk3p9Qa1bC-_.css'
"""

from ._manifest import (
    MANIFEST_FILE_NAME,
    MANIFEST_VERSION,
    Entry,
    HTML,
    Manifest,
    ManifestError,
    UnknownAsset,
    Variant,
)
from ._urls import encode_path, encode_segment


def _version() -> str:
    try:
        from importlib.metadata import PackageNotFoundError, version
    except ImportError:  # pragma: no cover - Python < 3.8
        return "0+unknown"
    try:
        return version("assetc")
    except PackageNotFoundError:
        return "0+unknown"


__version__ = _version()

__all__ = [
    "MANIFEST_FILE_NAME",
    "MANIFEST_VERSION",
    "Entry",
    "HTML",
    "Manifest",
    "ManifestError",
    "UnknownAsset",
    "Variant",
    "encode_path",
    "encode_segment",
    "__version__",
]
