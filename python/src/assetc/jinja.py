"""Jinja2 glue (and so FastAPI/Starlette's `Jinja2Templates`): `install(env, manifest)` adds the
globals `asset_url`, `asset_integrity` and `asset_tags` to an environment."""

from __future__ import annotations

import os
from typing import Any, Union

from ._manifest import Manifest


def install(env: Any, manifest: Union[Manifest, "os.PathLike[str]", str], **load_options: Any) -> Manifest:
    """Registers `asset_url(path)`, `asset_integrity(path)` and `asset_tags(path)` as globals
    of the Jinja2 `env` (for FastAPI: `templates.env`). `manifest` is a `Manifest` or a path to
    load one from (`load_options` go to `Manifest.load`). Returns the manifest."""
    from markupsafe import Markup  # Jinja2's own dependency; imported only when used

    if not isinstance(manifest, Manifest):
        manifest = Manifest.load(manifest, **load_options)
    elif load_options:
        raise TypeError("options are for loading a manifest from a path; this one is loaded")
    m = manifest

    def asset_tags(logical: str, preload: bool = True) -> Markup:
        return Markup(m.tags(logical, preload=preload))

    env.globals.update(
        asset_url=m.url,
        asset_integrity=lambda logical: m.integrity(logical) or "",
        asset_tags=asset_tags,
        assetc_manifest=m,
    )
    return m
