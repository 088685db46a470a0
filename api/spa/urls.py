"""Included at the root: the web app's client-side routes (each serves index.html; the app's
router takes it from there) and its anonymous configuration. Other unknown paths stay JSON 404s."""

from django.urls import path, re_path

from api.spa.views import ClientConfigApi, spa_index

urlpatterns = [
    path("api/config/", ClientConfigApi.as_view(), name="client-config"),
    re_path(
        r"^(?:|login|register|send|history|profile|transfers/[0-9A-Za-z-]{1,64})/?$",
        spa_index,
        name="home",
    ),
]
