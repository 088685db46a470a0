import os

from django.core.wsgi import get_wsgi_application
from django.urls import resolve

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "api.config.settings.local")
application = get_wsgi_application()
# Every view module is imported now, while the server process starts, and not by whichever
# request comes first: that took about half a second, which a process just started or
# respawned would otherwise add to a client's payment.
resolve("/healthz")
