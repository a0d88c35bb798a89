"""The storage README gives Django users: `{% static "admin/css/base.css" %}` resolves
through assetc's manifest (`base_url + entries[name].path`, percent-encoded as the build
writes names), so templates name the fingerprinted files. tests/realworld.rs renders the
admin's pages with it and loads them in Chromium."""

import json
from urllib.parse import quote

from django.conf import settings
from django.contrib.staticfiles.storage import StaticFilesStorage


class AssetcStorage(StaticFilesStorage):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        with open(settings.ASSETC_MANIFEST, encoding="utf-8") as f:
            manifest = json.load(f)
        self.assetc_base = manifest["base_url"]
        self.assetc_entries = manifest["entries"]

    def url(self, name):
        entry = self.assetc_entries.get(name)
        if entry is None:
            return super().url(name)
        return self.assetc_base + quote(entry["path"])
