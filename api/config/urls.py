from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from api.core.apis import HealthApi, ReadinessApi
from api.core.metrics.exposition import MetricsView
from api.core.metrics.store import SharedMetricsCollector
from api.transfers.metrics import BacklogCollector
from api.users.admin_login import admin_login_throttled

urlpatterns = [
    path("healthz", HealthApi.as_view(), name="healthz"),
    path("readyz", ReadinessApi.as_view(), name="readyz"),
    path(
        "metrics",
        MetricsView.as_view(collectors=(SharedMetricsCollector(), BacklogCollector())),
        name="metrics",
    ),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
    path("api/users/", include("api.users.urls")),
    path("api/wallet/", include("api.transfers.urls")),
    path("api/realtime/", include("realtime.urls")),
    # Before the admin's own URLs, so that its login page is reached only through the throttle.
    path("admin/login/", admin_login_throttled(admin.site.login), name="admin-login"),
    path("admin/", admin.site.urls),
    # The web app at "/" and its client-side routes, plus GET /api/config/.
    path("", include("api.spa.urls")),
]
