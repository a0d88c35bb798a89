"""A staticfiles storage whose `url()` answers from the assetc manifest, so `{% static %}` and
`staticfiles_storage.url()` give fingerprinted URLs on the assetc origin."""

from __future__ import annotations

from typing import Any, Optional

from django.contrib.staticfiles.storage import StaticFilesStorage

from . import get_manifest


class AssetcStorage(StaticFilesStorage):
    """`STORAGES = {"staticfiles": {"BACKEND": "assetc.django.storage.AssetcStorage"}}`.

    A name the manifest lists becomes its URL under the build's base URL. Any other name is
    an error when `ASSETC_STRICT` is true (the default), naming the closest logical paths;
    with `ASSETC_STRICT = False` it is left to `StaticFilesStorage` (`STATIC_URL` + name), as
    `runserver` serves source files in development. Files are still found and collected as
    by `StaticFilesStorage`.
    """

    def url(self, name: Optional[str], *args: Any, **kwargs: Any) -> str:
        manifest = get_manifest()
        logical = (name or "").split("?", 1)[0].split("#", 1)[0]
        if logical in manifest or manifest.strict:
            return manifest.url(logical)
        return super().url(name, *args, **kwargs)
