"""Django glue: add `"assetc.django"` to `INSTALLED_APPS` and set `ASSETC_MANIFEST`; templates get
`{% load assetc %}`, `staticfiles` can use `assetc.django.storage.AssetcStorage` so that
`{% static %}` answers from the manifest, and `manage.py check` reports a missing manifest.

Settings: `ASSETC_MANIFEST` (the manifest's path, or the build directory holding it),
`ASSETC_STRICT` (default `True`), `ASSETC_RELOAD_INTERVAL` (seconds, default 1; `None`: never).
"""

from __future__ import annotations

import threading
from typing import Any, Optional, Tuple

from .._manifest import DEFAULT_RELOAD_INTERVAL, Manifest

_lock = threading.Lock()
_cached: Optional[Tuple[Tuple[Any, ...], Manifest]] = None


def _settings() -> Tuple[Any, ...]:
    from django.conf import settings
    from django.core.exceptions import ImproperlyConfigured

    path = getattr(settings, "ASSETC_MANIFEST", None)
    if not path:
        raise ImproperlyConfigured(
            "set `ASSETC_MANIFEST` to the path of the `assetc-manifest.json` that `assetc build` writes"
        )
    return (
        str(path),
        bool(getattr(settings, "ASSETC_STRICT", True)),
        getattr(settings, "ASSETC_RELOAD_INTERVAL", DEFAULT_RELOAD_INTERVAL),
        getattr(settings, "STATIC_URL", None),
    )


def get_manifest() -> Manifest:
    """The project's manifest, loaded once from the settings (again when they change, as
    `override_settings` does in tests) and reloading itself after each `assetc build`."""
    global _cached
    key = _settings()
    cached = _cached
    if cached is not None and cached[0] == key:
        return cached[1]
    with _lock:
        if _cached is not None and _cached[0] == key:
            return _cached[1]
        path, strict, interval, static_url = key
        manifest = Manifest.load(
            path, strict=strict, reload_interval=interval, fallback_base_url=static_url
        )
        _cached = (key, manifest)
        return manifest


def reset() -> None:
    """Forgets the loaded manifest; the next lookup loads it from the settings again."""
    global _cached
    with _lock:
        _cached = None
