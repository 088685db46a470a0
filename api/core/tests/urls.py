"""The real URLs plus the test-only views of `views.py`."""

from django.urls import path

from api.config.urls import urlpatterns as real_urlpatterns
from api.core.tests import views

urlpatterns = [
    *real_urlpatterns,
    path("api/test/order/", views.OrderApi.as_view()),
    path("api/test/lines/", views.LinesApi.as_view()),
    path("api/test/protected/", views.ProtectedApi.as_view()),
    path("api/test/staff/", views.StaffApi.as_view()),
    path("api/test/throttled/", views.ThrottledApi.as_view()),
    path("api/test/counted/", views.CountedApi.as_view()),
    path("api/test/anon-counted/", views.AnonCountedApi.as_view()),
    path("api/test/default-throttled/", views.DefaultThrottledApi.as_view()),
    path("api/test/application-error/", views.ApplicationErrorApi.as_view()),
    path("api/test/django-not-found/", views.DjangoNotFoundApi.as_view()),
    path("api/test/django-permission-denied/", views.DjangoPermissionDeniedApi.as_view()),
    path("api/test/crash/", views.CrashApi.as_view()),
    path("api/test/integrity-error/", views.IntegrityErrorApi.as_view()),
    path("api/test/database/", views.DatabaseReadApi.as_view()),
    path("api/test/redis/", views.RedisReadApi.as_view()),
    path("plain/crash/", views.crash_view),
    path("plain/database/", views.database_read_view),
    path("plain/redis/", views.redis_read_view),
    path("plain/integrity-error/", views.integrity_error_view),
    path("plain/post-only/", views.post_only_view),
    path("plain/error/<int:status>/", views.plain_error_view),
]
