"""Settings of the Django example: the assetc lines are `INSTALLED_APPS`, `ASSETC_MANIFEST` and `STORAGES`."""

import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "example-only-not-a-secret")
DEBUG = os.environ.get("DJANGO_DEBUG") == "1"
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]

INSTALLED_APPS = [
    "django.contrib.staticfiles",
    "assetc.django",  # {% load assetc %}, and the manifest's system check
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.common.CommonMiddleware",
]

ROOT_URLCONF = "mysite.urls"
WSGI_APPLICATION = "mysite.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {"context_processors": []},
    }
]

DATABASES = {}
USE_TZ = True

# assetc: the manifest `assetc build` writes, and {% static %} answered from it.
ASSETC_MANIFEST = os.environ.get("ASSETC_MANIFEST", BASE_DIR / "build" / "assetc-manifest.json")
STATIC_URL = "/static/"  # used only for names the manifest lacks, with ASSETC_STRICT = False
STORAGES = {"staticfiles": {"BACKEND": "assetc.django.storage.AssetcStorage"}}
