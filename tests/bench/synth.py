"""Synthetic asset trees for the benchmarks: N files with a realistic size mix.

Deterministic for a given N (seeded), so that two runs of `just bench` measure the same
bytes. The mix follows what front-end builds ship: mostly small files (icons, modules,
JSON), a long tail of images, a few fonts, and a handful of MB-sized files (a video, big
bundles). HTML pages reference dozens of assets each (stylesheets, scripts, images with
`srcset`, icons, preloaded fonts); stylesheets reference images and fonts with `url()`;
scripts import other scripts. Every reference resolves, so strict builds and Django's
ManifestStaticFilesStorage accept the tree.

    python3 tests/bench/synth.py OUT_DIR N
"""

from __future__ import annotations

import math
import os
import random
import sys

# Bump when the output changes, so that cached trees are regenerated.
VERSION = 2

# kind: (share of files, extension, median size in bytes, lognormal sigma, max size)
MIX = [
    ("svg", 0.30, ".svg", 1_200, 0.7, 40_000),
    ("js", 0.18, ".js", 6_000, 1.1, 400_000),
    ("img", 0.24, ".png", 18_000, 1.2, 2_500_000),
    ("webp", 0.06, ".webp", 25_000, 1.0, 1_500_000),
    ("json", 0.07, ".json", 2_000, 1.0, 200_000),
    ("css", 0.06, ".css", 8_000, 1.0, 300_000),
    ("font", 0.01, ".woff2", 45_000, 0.5, 200_000),
    ("txt", 0.02, ".txt", 3_000, 0.8, 100_000),
]
HTML_SHARE = 0.05
# MB-sized files: (relative path, size, text?)
LARGE = [
    ("media/intro.mp4", 8_000_000, False),
    ("media/tour.webm", 5_000_000, False),
    ("js/vendor.bundle.js", 2_500_000, True),
    ("data/catalog.json", 1_500_000, True),
    ("img/hero-4k.png", 3_000_000, False),
]

WORDS = None


def _words(rng: random.Random) -> list[str]:
    syllables = ["ka", "lo", "mi", "ne", "ru", "sa", "ti", "vo", "xe", "zu", "an", "el",
                 "or", "is", "um", "gra", "pli", "sto", "tre", "qua"]
    return ["".join(rng.choice(syllables) for _ in range(rng.randint(1, 4)))
            for _ in range(3000)]


def _text_pool(rng: random.Random, kind: str, size: int) -> str:
    """A pool of plausible text for one kind (code-like for JS/CSS/JSON)."""
    w = WORDS
    out = []
    n = 0
    while n < size:
        a, b, c = rng.choice(w), rng.choice(w), rng.choice(w)
        if kind == "js":
            line = rng.choice([
                f"export function {a}_{b}({c}, opts) {{ return {c}.{a} + opts.{b} * {rng.randint(0, 999)}; }}\n",
                f"const {a}{b} = new Map([['{c}', {rng.randint(0, 99999)}], ['{b}', '{a}']]);\n",
                f"  if ({a}.{b} !== undefined && {c}.length > {rng.randint(1, 64)}) {{ {a}.{c}({b}); }}\n",
                f"// {a} {b} {c}: {rng.choice(w)} {rng.choice(w)} {rng.choice(w)}\n",
            ])
        elif kind == "css":
            line = rng.choice([
                f".{a}-{b} {{ margin: {rng.randint(0, 64)}px {rng.randint(0, 64)}px; color: #{rng.randint(0, 0xffffff):06x}; }}\n",
                f".{a} > .{c}:hover {{ display: flex; gap: {rng.randint(0, 40)}px; transition: opacity .{rng.randint(1, 9)}s ease; }}\n",
                f"@media (min-width: {rng.choice([576, 768, 992, 1200])}px) {{ .{b}-{c} {{ width: {rng.randint(1, 100)}%; }} }}\n",
            ])
        elif kind == "json":
            line = f'  {{"id": {rng.randint(0, 10**6)}, "name": "{a} {b}", "tag": "{c}", "score": {rng.random():.4f}}},\n'
        elif kind == "svg":
            line = (f'<path d="M{rng.randint(0, 512)} {rng.randint(0, 512)}L{rng.randint(0, 512)} '
                    f'{rng.randint(0, 512)}C{rng.randint(0, 512)} {rng.randint(0, 512)} '
                    f'{rng.randint(0, 512)} {rng.randint(0, 512)}Z" fill="#{rng.randint(0, 0xffffff):06x}"/>\n')
        else:
            line = " ".join(rng.choice(w) for _ in range(rng.randint(6, 14))) + ".\n"
        out.append(line)
        n += len(line)
    return "".join(out)


def _size(rng: random.Random, median: int, sigma: float, cap: int) -> int:
    return max(64, min(cap, int(median * math.exp(rng.gauss(0, sigma)))))


def _slice(rng: random.Random, pool: str, size: int) -> str:
    if size >= len(pool):
        reps = size // len(pool) + 1
        return (pool * reps)[:size]
    start = rng.randrange(0, len(pool) - size)
    return pool[start:start + size]


def generate(out: str, n: int) -> dict:
    global WORDS
    rng = random.Random(0xA55E7C + n)
    WORDS = _words(rng)
    pools = {k: _text_pool(rng, k, 1_500_000) for k in ("js", "css", "json", "svg", "txt")}
    n_html = max(1, int(n * HTML_SHARE))
    n_large = len(LARGE) if n >= 1000 else 0
    n_assets = n - n_html - n_large
    files: list[tuple[str, str]] = []  # (relative path, kind)
    per_dir = 200
    counts = {}
    for kind, share, ext, *_ in MIX:
        counts[kind] = int(n_assets * share)
    counts["svg"] += n_assets - sum(counts.values())
    by_kind: dict[str, list[str]] = {}
    for kind, share, ext, *_ in MIX:
        paths = []
        for i in range(counts[kind]):
            paths.append(f"{kind}/d{i // per_dir:03d}/{kind}{i:06d}{ext}")
        by_kind[kind] = paths
    total = 0
    made_dirs = set()

    def write(rel: str, data: bytes) -> None:
        nonlocal total
        path = os.path.join(out, rel)
        d = os.path.dirname(path)
        if d not in made_dirs:
            os.makedirs(d, exist_ok=True)
            made_dirs.add(d)
        with open(path, "wb") as f:
            f.write(data)
        total += len(data)

    spec = {k: (med, sig, cap) for k, _, _, med, sig, cap in MIX}
    images = by_kind["img"] + by_kind["webp"]
    fonts = by_kind["font"]
    # Binary assets: incompressible bytes with a plausible header.
    for kind, magic in (("img", b"\x89PNG\r\n\x1a\n"), ("webp", b"RIFF\0\0\0\0WEBPVP8 "),
                        ("font", b"wOF2\0\1\0\0")):
        med, sig, cap = spec[kind]
        for rel in by_kind[kind]:
            write(rel, magic + rng.randbytes(_size(rng, med, sig, cap)))
    for kind in ("svg", "json", "txt"):
        med, sig, cap = spec[kind]
        for i, rel in enumerate(by_kind[kind]):
            size = _size(rng, med, sig, cap)
            body = _slice(rng, pools[kind], size)
            if kind == "svg":
                data = (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 512 512"><!-- {i} -->\n'
                        f"{body[:body.rfind(chr(10)) + 1]}</svg>\n")
            elif kind == "json":
                data = f'{{"file": {i}, "items": [\n{body[:body.rfind(chr(10)) + 1]}  {{}}]}}\n'
            else:
                data = f"{i}\n{body}"
            write(rel, data.encode())
    # Stylesheets: url() to images and fonts (relative to css/dNNN/).
    med, sig, cap = spec["css"]
    for i, rel in enumerate(by_kind["css"]):
        refs = []
        for _ in range(rng.randint(3, 12)):
            refs.append(f'.bg{len(refs)}-{i} {{ background-image: url("../../{rng.choice(images)}"); }}\n')
        if fonts:
            refs.insert(0, f'@font-face {{ font-family: f{i}; src: url(../../{rng.choice(fonts)}) format("woff2"); }}\n')
        body = _slice(rng, pools["css"], _size(rng, med, sig, cap))
        write(rel, ("".join(refs) + body).encode())
    # Scripts: a few imports of earlier modules (a DAG), then code.
    med, sig, cap = spec["js"]
    js = by_kind["js"]
    for i, rel in enumerate(js):
        head = []
        if i > 0:
            for _ in range(rng.randint(0, 3)):
                head.append(f'import "/{js[rng.randrange(0, i)]}";\n')
        body = _slice(rng, pools["js"], _size(rng, med, sig, cap))
        write(rel, ("".join(head) + f"// module {i}\n" + body).encode())
    for rel, size, text in LARGE[:n_large]:
        if text:
            data = _slice(rng, pools["json" if rel.endswith(".json") else "js"], size).encode()
        else:
            data = rng.randbytes(size)
        write(rel, data)
    # Pages: entry points referencing many assets.
    css, svgs = by_kind["css"], by_kind["svg"]
    prose = pools["txt"]
    for p in range(n_html):
        rel = "index.html" if p == 0 else f"pages/s{p // per_dir:03d}/page{p:05d}.html"
        parts = ['<!doctype html>\n<html lang="en"><head><meta charset="utf-8">\n',
                 f"<title>Page {p}</title>\n"]
        for c in rng.sample(css, min(3, len(css))):
            parts.append(f'<link rel="stylesheet" href="/{c}">\n')
        if fonts:
            parts.append(f'<link rel="preload" as="font" crossorigin href="/{rng.choice(fonts)}">\n')
        for s in rng.sample(js, min(4, len(js))):
            parts.append(f'<script type="module" src="/{s}"></script>\n')
        parts.append("</head><body>\n<nav>")
        for s in rng.sample(svgs, min(12, len(svgs))):
            parts.append(f'<img src="/{s}" alt="" width="16" height="16">')
        parts.append("</nav>\n<main>\n")
        for _ in range(rng.randint(8, 20)):
            a, b = rng.choice(images), rng.choice(images)
            parts.append(f'<p>{_slice(rng, prose, rng.randint(200, 1200))}</p>\n'
                         f'<img src="/{a}" srcset="/{a} 1x, /{b} 2x" alt="" loading="lazy">\n')
        if p > 0:
            parts.append('<a href="/index.html">home</a>\n')
        parts.append("</main></body></html>\n")
        write(rel, "".join(parts).encode())
    return {"files": n, "bytes": total, "version": VERSION}


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    info = generate(sys.argv[1], int(sys.argv[2]))
    print(info)
