"""A FastAPI app whose Jinja2 templates take fingerprinted asset URLs from the assetc manifest.

Two lines do it: load the manifest and install it into the templates' Jinja2 environment.
Assets come from `assetc serve` (another origin), never through this app.

Run (see python/README.md): `assetc build --base-url http://127.0.0.1:8082/`, then
`assetc serve --bind 127.0.0.1:8082` and `uvicorn main:app --port 8000` here.
"""

import os
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

import assetc
import assetc.jinja

HERE = Path(__file__).resolve().parent

app = FastAPI()
templates = Jinja2Templates(directory=HERE / "templates")
manifest = assetc.Manifest.load(os.environ.get("ASSETC_MANIFEST", HERE / "build" / "assetc-manifest.json"))
assetc.jinja.install(templates.env, manifest)


@app.get("/", response_class=HTMLResponse)
async def index(request: Request):
    return templates.TemplateResponse(request, "index.html", {"title": "Orders"})


@app.get("/api/orders")
async def orders():
    return [{"id": 1, "item": "tea"}, {"id": 2, "item": "coffee"}]
