"""The seeds' case, a Flask dashboard, after assetc: its assets come fingerprinted from `assetc serve`.

Before, this app served its own assets and busted caches by hand:

    @app.route("/static/<path:filename>")
    def static_files(filename):
        return send_from_directory("static", filename)

    <link rel="stylesheet" href="/static/css/dashboard.css?v={{ version }}">

so every deploy meant bumping `version`, browsers revalidated every file on every visit, and a
forgotten bump showed users old JavaScript. Now `assetc build --base-url http://ASSETS/` names
each file after its content, `assetc serve` sends it with `Cache-Control: immutable`, and the
template asks the manifest for URLs. The app follows each new build without a restart.

Run (see python/README.md): `assetc build --base-url http://127.0.0.1:8081/`, then
`assetc serve --bind 127.0.0.1:8081` and `gunicorn --bind 127.0.0.1:8000 --threads 4 app:app` here.
"""

import os

from flask import Flask, render_template

from assetc.flask import Assetc

app = Flask(__name__)
# The manifest `assetc build` wrote (relative paths are relative to this folder).
app.config["ASSETC_MANIFEST"] = os.environ.get("ASSETC_MANIFEST", "build/assetc-manifest.json")
assets = Assetc(app)

METRICS = [
    {"name": "requests / s", "value": 1284},
    {"name": "p99 latency", "value": "41 ms"},
    {"name": "cache hit ratio", "value": "97.2 %"},
]


@app.route("/")
def dashboard():
    return render_template("dashboard.html", metrics=METRICS)
