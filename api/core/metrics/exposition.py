"""GET /metrics: the Prometheus text format, for the operator's scraper.

Open when METRICS_TOKEN is unset outside production (local runs, tests); with a token,
`Authorization: Bearer <token>` is required (401 otherwise); production settings without a
token answer 404, so that nothing is exposed by default. The values come from collectors
that each read one source at scrape time (Redis for what every process counted, PostgreSQL
for the backlog); a source that cannot be read says so in its own `..._up` gauge and the
scrape still answers 200.
"""

import hmac

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.views import View
from prometheus_client import CollectorRegistry
from prometheus_client.exposition import choose_encoder
from prometheus_client.registry import Collector

from api.core.errors import error_response


class MetricsView(View):
    http_method_names = ["get"]
    collectors: tuple[Collector, ...] = ()  # given by the URL map: MetricsView.as_view(...)

    def get(self, request: HttpRequest) -> HttpResponse:
        token = settings.METRICS_TOKEN
        if token is None and settings.METRICS_TOKEN_REQUIRED:
            return error_response("not_found", "Not Found.", 404)
        if token is not None and not _bearer_matches(request, token):
            response = error_response(
                "not_authenticated", "The metrics token is missing or wrong.", 401
            )
            response["WWW-Authenticate"] = 'Bearer realm="metrics"'
            return response
        registry = CollectorRegistry(auto_describe=False)
        for collector in self.collectors:
            registry.register(collector)
        # The format the scraper asks for (Prometheus text, or OpenMetrics), as the library's
        # own servers choose it.
        encoder, content_type = choose_encoder(request.headers.get("Accept", ""))
        return HttpResponse(encoder(registry), content_type=content_type)


def _bearer_matches(request: HttpRequest, token: str) -> bool:
    given = request.headers.get("Authorization", "")
    return hmac.compare_digest(given.encode(), f"Bearer {token}".encode())
