"""Django system check (`manage.py check`, `runserver`, `migrate`): is the assetc manifest set,
present, readable, and a version this package reads?"""

from __future__ import annotations

import os
from typing import Any, List

from django.conf import settings
from django.core import checks

from .._manifest import MANIFEST_FILE_NAME, Manifest, ManifestError

_STORAGE = "assetc.django.storage.AssetcStorage"


def check_manifest(app_configs: Any = None, **kwargs: Any) -> List[checks.CheckMessage]:
    path = getattr(settings, "ASSETC_MANIFEST", None)
    strict = bool(getattr(settings, "ASSETC_STRICT", True))
    if not path:
        return [
            checks.Error(
                "`ASSETC_MANIFEST` is not set",
                hint="set it to the `assetc-manifest.json` that `assetc build` writes "
                "(for example `BASE_DIR / \"build\" / \"assetc-manifest.json\"`)",
                id="assetc.E001",
            )
        ]
    messages: List[checks.CheckMessage] = []
    full = os.path.abspath(os.fspath(path))
    if os.path.isdir(full):
        full = os.path.join(full, MANIFEST_FILE_NAME)
    if not os.path.lexists(full):
        level = checks.Error if strict else checks.Warning
        messages.append(
            level(
                f"the assetc manifest `{full}` does not exist",
                hint="run `assetc build` (its `--output` directory holds the manifest)"
                + ("" if not strict else ", or set `ASSETC_STRICT = False` in development"),
                id="assetc.E002" if strict else "assetc.W002",
            )
        )
    else:
        try:
            Manifest.load(full, strict=True, reload_interval=None)
        except ManifestError as e:
            messages.append(
                checks.Error(
                    str(e),
                    hint="rebuild it with `assetc build`, and check `ASSETC_MANIFEST`",
                    id="assetc.E003",
                )
            )
    backend = _staticfiles_backend()
    if backend == _STORAGE and "django.contrib.staticfiles" not in settings.INSTALLED_APPS:
        messages.append(
            checks.Warning(
                f"the staticfiles storage is `{_STORAGE}`, but `django.contrib.staticfiles` is "
                "not installed, so `{% static %}` does not use it",
                hint="add `django.contrib.staticfiles` to `INSTALLED_APPS`",
                id="assetc.W001",
            )
        )
    return messages


def _staticfiles_backend() -> Any:
    storages = getattr(settings, "STORAGES", None) or {}
    return (storages.get("staticfiles") or {}).get("BACKEND")
