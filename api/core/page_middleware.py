"""The admin's middleware, skipped for the API (its own module: the logging configuration
imports api.core.middleware before Django's apps are loaded, and these classes need them)."""

from django.contrib.auth.middleware import AuthenticationMiddleware
from django.contrib.messages.middleware import MessageMiddleware
from django.contrib.sessions.middleware import SessionMiddleware
from django.middleware.csrf import CsrfViewMiddleware

API_PREFIX = "/api/"


class PagesOnly:
    """Runs a middleware for every path but the API's. Sessions, CSRF, Django's
    authentication and messages serve the admin's pages; the API authenticates bearer tokens
    from the Authorization header, sets no cookie and reads none, and DRF's views are exempt
    from CSRF. Skipping them saves CPU on every API request (measured in
    loadtests/results/pipeline-notes.md). Subclasses of Django's own classes, so the admin's
    checks still find them in MIDDLEWARE."""

    def __call__(self, request):
        if request.path_info.startswith(API_PREFIX):
            return self.get_response(request)
        return super().__call__(request)


class PagesSessionMiddleware(PagesOnly, SessionMiddleware):
    pass


class PagesCsrfViewMiddleware(PagesOnly, CsrfViewMiddleware):
    def process_view(self, request, callback, callback_args, callback_kwargs):
        if request.path_info.startswith(API_PREFIX):
            return None
        return super().process_view(request, callback, callback_args, callback_kwargs)


class PagesAuthenticationMiddleware(PagesOnly, AuthenticationMiddleware):
    pass


class PagesMessageMiddleware(PagesOnly, MessageMiddleware):
    pass
