"""Django settings for the collectstatic peers of `just bench` (tests/bench/bench.py).

The driver sets BENCH_STATIC_SRC (the corpus), BENCH_STATIC_ROOT (the output) and
BENCH_STORAGE (ManifestStaticFilesStorage, or WhiteNoise's CompressedManifestStaticFilesStorage).
"""

import os

SECRET_KEY = "assetc-bench"
DEBUG = False
USE_TZ = True
INSTALLED_APPS = ["django.contrib.staticfiles"]
STATIC_URL = "/static/"
STATICFILES_DIRS = [os.environ["BENCH_STATIC_SRC"]]
STATIC_ROOT = os.environ["BENCH_STATIC_ROOT"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": os.environ["BENCH_STORAGE"]},
}
