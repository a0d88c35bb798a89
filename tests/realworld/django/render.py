"""Django's side of tests/realworld.rs: collects the admin's static files (`collectstatic`,
plain storage: the originals, as a Django project hands them to a CDN or to assetc) into
SITE/static/, and exports two admin pages rendered by Django itself into SITE (the login
page, and a page of the admin's date and time widgets), with their static URLs under
`/static/` as Django writes them, and the JavaScript catalog the widgets need as
SITE/static/jsi18n.js. No database: these pages need none. The pages link to `/admin/`,
the admin's index, a view Django answers, which is not exported.

With MANIFEST (an assetc build of those files), only renders the pages, into SITE, their
static URLs resolved through that manifest by `assetc_storage.AssetcStorage` (what README
gives): the pages as a Django app serves them over an assetc build.

Usage: python render.py SITE [MANIFEST]
"""

import os
import sys

import django
from django.conf import settings

site = os.path.abspath(sys.argv[1])
manifest = os.path.abspath(sys.argv[2]) if len(sys.argv) > 2 else None
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
storage = "assetc_storage.AssetcStorage" if manifest else (
    "django.contrib.staticfiles.storage.StaticFilesStorage"
)
settings.configure(
    DEBUG=False,
    SECRET_KEY="assetc-realworld",
    ALLOWED_HOSTS=["testserver"],
    ROOT_URLCONF=__name__,
    INSTALLED_APPS=[
        "django.contrib.admin",
        "django.contrib.auth",
        "django.contrib.contenttypes",
        "django.contrib.sessions",
        "django.contrib.messages",
        "django.contrib.staticfiles",
    ],
    MIDDLEWARE=[
        "django.contrib.sessions.middleware.SessionMiddleware",
        "django.middleware.csrf.CsrfViewMiddleware",
        "django.contrib.auth.middleware.AuthenticationMiddleware",
        "django.contrib.messages.middleware.MessageMiddleware",
    ],
    SESSION_ENGINE="django.contrib.sessions.backends.signed_cookies",
    MESSAGE_STORAGE="django.contrib.messages.storage.cookie.CookieStorage",
    DATABASES={},
    TEMPLATES=[
        {
            "BACKEND": "django.template.backends.django.DjangoTemplates",
            "APP_DIRS": True,
            "OPTIONS": {
                "context_processors": [
                    "django.template.context_processors.request",
                    "django.contrib.auth.context_processors.auth",
                    "django.contrib.messages.context_processors.messages",
                ]
            },
        }
    ],
    STATIC_URL="/static/",
    STATIC_ROOT=os.path.join(site, "static"),
    STORAGES={
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {"BACKEND": storage},
    },
    ASSETC_MANIFEST=manifest,
    USE_I18N=True,
)
django.setup()

from django import forms  # noqa: E402
from django.contrib import admin  # noqa: E402
from django.contrib.admin import widgets  # noqa: E402
from django.http import HttpResponse  # noqa: E402
from django.template import engines  # noqa: E402
from django.urls import path  # noqa: E402
from django.views.i18n import JavaScriptCatalog  # noqa: E402


class Widgets(forms.Form):
    """The admin's date and time widgets: DateTimeShortcuts.js adds their calendar and
    clock buttons, whose icons it names at run time (`__admin_media_prefix__ + "img/…"`)."""

    day = forms.DateField(widget=widgets.AdminDateWidget)
    time = forms.TimeField(widget=widgets.AdminTimeWidget)


# As a change form has it: the catalog, then core.js (the ModelAdmin's media), then the
# widgets' media.
WIDGETS_PAGE = """{% extends "admin/base_site.html" %}{% load static %}{% block extrahead %}{{ block.super }}<script src="{% static 'jsi18n.js' %}"></script><script src="{% static 'admin/js/core.js' %}"></script>{{ form.media }}{% endblock %}
{% block content %}<form id="widgets">{{ form.as_p }}</form>{% endblock %}"""


def widgets_page(request):
    template = engines["django"].from_string(WIDGETS_PAGE)
    context = admin.site.each_context(request) | {"form": Widgets(), "title": "Widgets"}
    return HttpResponse(template.render(context, request))


urlpatterns = [
    path("admin/", admin.site.urls),
    path("widgets/", widgets_page),
    path("jsi18n/", JavaScriptCatalog.as_view(), name="jsi18n"),
]

if __name__ == "__main__":
    from django.core.management import call_command
    from django.test import Client

    pages = [
        ("/admin/login/", "admin/login/index.html"),
        ("/widgets/", "widgets/index.html"),
    ]
    if not manifest:
        call_command("collectstatic", interactive=False, verbosity=0)
        pages.append(("/jsi18n/", "static/jsi18n.js"))
    client = Client()
    for url, out in pages:
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        target = os.path.join(site, out)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        with open(target, "wb") as f:
            f.write(response.content)
