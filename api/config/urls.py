from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from api.core.apis import HealthApi, ReadinessApi

urlpatterns = [
    # The web app takes over "/" once it is built; until then the API docs are the front door.
    path("", RedirectView.as_view(url="/api/docs/"), name="home"),
    path("healthz", HealthApi.as_view(), name="healthz"),
    path("readyz", ReadinessApi.as_view(), name="readyz"),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
    path("api/users/", include("api.users.urls")),
    path("api/wallet/", include("api.transfers.urls")),
    path("api/realtime/", include("realtime.urls")),
    path("admin/", admin.site.urls),
]
