"""Django template tag libraries of `assetc.django`: `{% load assetc %}`."""
