"""The reference oracle of tests/realworld.rs: every URL reference in the HTML, CSS and JS
under a directory, in document order, found without any of assetc's code
(Python's html.parser, regular expressions, json), so that a reference assetc's scanners
miss is not missed here too.

Usage: python3 refs.py DIR  ->  JSON on stdout: {"relative/path": ["ref", ...], ...}
"""

import html.parser
import json
import os
import re
import sys

# Attributes whose value is a URL (or, for srcset, a list of "URL descriptor" candidates).
URL_ATTRIBUTES = {"href", "src", "poster"}


class Page(html.parser.HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.refs = []

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if value is None:
                continue
            if name in URL_ATTRIBUTES:
                self.refs.append(value.strip())
            elif name == "srcset":
                for candidate in value.split(","):
                    if candidate.strip():
                        self.refs.append(candidate.split()[0])

    handle_startendtag = handle_starttag


CSS = re.compile(
    r"""(?P<comment>/\*.*?\*/)
      | @import\s+(?P<q>["'])(?P<import>.*?)(?P=q)
      | url\(\s*(?:"(?P<u1>[^"]*)"|'(?P<u2>[^']*)'|(?P<u3>[^)"'\s]*))\s*\)
      | (?P<string>"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*')""",
    re.X | re.S | re.I,
)
SOURCE_MAP_COMMENT = re.compile(r"/\*[#@]\s*sourceMappingURL=(\S+?)\s*\*/\Z", re.S)


def css_refs(text):
    refs = []
    for m in CSS.finditer(text):
        if m.group("comment"):
            directive = SOURCE_MAP_COMMENT.match(m.group("comment"))
            if directive:
                refs.append(directive.group(1))
        elif m.group("string") is None:
            value = next(
                v for v in (m.group("import"), m.group("u1"), m.group("u2"), m.group("u3"))
                if v is not None
            )
            if value.strip():
                refs.append(value.strip())
    return refs


JS = re.compile(
    r"""^//[#@]\s*sourceMappingURL=(?P<map>\S+)\s*$
      | \bimport\s*\(\s*(?P<q1>["'`])(?P<dynamic>[^"'`]*)(?P=q1)\s*\)
      | \b(?:import|export)\b[\w\s{},*$]*?\bfrom\s*(?P<q2>["'])(?P<from>[^"']*)(?P=q2)
      | \bimport\s*(?P<q3>["'])(?P<side>[^"']*)(?P=q3)
      | \bnew\s+URL\(\s*(?P<q4>["'`])(?P<url>[^"'`]*)(?P=q4)\s*,\s*import\.meta\.url\s*\)""",
    re.X | re.M,
)


def js_refs(text):
    refs = []
    for m in JS.finditer(text):
        value = next(
            v for v in (m.group(g) for g in ("map", "dynamic", "from", "side", "url"))
            if v is not None
        )
        refs.append(value)
    return refs


def refs_of(path, text):
    ext = os.path.splitext(path)[1].lower()
    if ext in (".html", ".htm"):
        page = Page()
        page.feed(text)
        page.close()
        return page.refs
    if ext == ".css":
        return css_refs(text)
    if ext in (".js", ".mjs"):
        return js_refs(text)
    # A source map references nothing: its `file` is a name (ECMA-426), never resolved,
    # and its `sources` are the originals, not files of the site.
    return None


def main(root):
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            path = os.path.join(dirpath, name)
            rel = os.path.relpath(path, root).replace(os.sep, "/")
            with open(path, encoding="utf-8", errors="replace") as f:
                refs = refs_of(rel, f.read())
            if refs is not None:
                out[rel] = refs
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main(sys.argv[1])
