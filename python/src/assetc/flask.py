"""Flask glue: `Assetc(app)` or `Assetc().init_app(app)` loads the manifest named by the config key
`ASSETC_MANIFEST` and gives templates `asset_url`, `asset_integrity` and `asset_tags`."""

from __future__ import annotations

import os
from typing import Any, Optional

from ._manifest import DEFAULT_RELOAD_INTERVAL, Manifest

#: `app.extensions` key holding each app's `Manifest`.
EXTENSION_KEY = "assetc"


class Assetc:
    """The Flask extension. Config keys (set before `init_app`):

    - `ASSETC_MANIFEST`: the manifest's path, or the build directory holding it; a relative
      path is relative to `app.root_path` (default `build/assetc-manifest.json`);
    - `ASSETC_STRICT`: raise for unknown logical paths (default `True`); `False` falls back to
      the logical path, for development before a first build;
    - `ASSETC_RELOAD_INTERVAL`: seconds between looks for a new build (default 1; `None`: never).
    """

    def __init__(self, app: Optional[Any] = None) -> None:
        if app is not None:
            self.init_app(app)

    def init_app(self, app: Any) -> Manifest:
        from markupsafe import Markup  # Flask's own dependency; imported only when used

        app.config.setdefault("ASSETC_MANIFEST", os.path.join("build", "assetc-manifest.json"))
        app.config.setdefault("ASSETC_STRICT", True)
        app.config.setdefault("ASSETC_RELOAD_INTERVAL", DEFAULT_RELOAD_INTERVAL)
        path = os.path.join(app.root_path, os.fspath(app.config["ASSETC_MANIFEST"]))
        manifest = Manifest.load(
            path,
            strict=bool(app.config["ASSETC_STRICT"]),
            reload_interval=app.config["ASSETC_RELOAD_INTERVAL"],
            fallback_base_url=app.config.get("ASSETC_FALLBACK_BASE_URL"),
        )
        app.extensions[EXTENSION_KEY] = manifest

        def asset_tags(logical: str, preload: bool = True) -> Markup:
            return Markup(manifest.tags(logical, preload=preload))

        app.add_template_global(manifest.url, "asset_url")
        app.add_template_global(lambda logical: manifest.integrity(logical) or "", "asset_integrity")
        app.add_template_global(asset_tags, "asset_tags")
        return manifest

    @property
    def manifest(self) -> Manifest:
        """The current app's manifest (needs an app context)."""
        return current_manifest()


def current_manifest() -> Manifest:
    """The manifest of `flask.current_app`, for use in views and CLI commands."""
    from flask import current_app

    try:
        return current_app.extensions[EXTENSION_KEY]
    except KeyError:
        raise RuntimeError(
            "assetc is not set up on this app: call `assetc.flask.Assetc(app)` first"
        ) from None


def asset_url(logical: str) -> str:
    """`asset_url` outside templates (in a view, for a redirect or a JSON answer)."""
    return current_manifest().url(logical)
