"""`{% load assetc %}`: `{% asset_url "css/site.css" %}`, `{% asset_integrity "js/app.js" %}` and
`{% asset_tags "js/app.js" %}` (script or stylesheet tags with integrity and modulepreloads)."""

from __future__ import annotations

from django import template
from django.utils.safestring import SafeString, mark_safe

from .. import get_manifest

register = template.Library()


@register.simple_tag
def asset_url(logical: str) -> str:
    """The fingerprinted URL of `logical` (escaped by the template like any string)."""
    return get_manifest().url(logical)


@register.simple_tag
def asset_integrity(logical: str) -> str:
    """The SRI value (`sha384-…`, `sha256-…`) for `logical`, or an empty string where the build recorded none."""
    return get_manifest().integrity(logical) or ""


@register.simple_tag
def asset_tags(logical: str, preload: bool = True) -> SafeString:
    """`<link rel="stylesheet">` or `<script type="module">` plus `<link rel="modulepreload">`
    for the modules it imports; every value inside is already HTML-escaped."""
    return mark_safe(get_manifest().tags(logical, preload=preload))
