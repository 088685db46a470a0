from django.urls import path

from api.users.apis import (
    TokenRefreshApi,
    UserAadhaarRevealApi,
    UserLoginApi,
    UserLogoutApi,
    UserProfileApi,
    UserRegisterApi,
)
from api.users.lookup_apis import UserLookupApi

app_name = "users"

urlpatterns = [
    path("register/", UserRegisterApi.as_view(), name="register"),
    path("login/", UserLoginApi.as_view(), name="login"),
    path("token/refresh/", TokenRefreshApi.as_view(), name="token-refresh"),
    path("logout/", UserLogoutApi.as_view(), name="logout"),
    path("profile/", UserProfileApi.as_view(), name="profile"),
    path("profile/reveal-aadhaar/", UserAadhaarRevealApi.as_view(), name="reveal-aadhaar"),
    path("lookup/", UserLookupApi.as_view(), name="lookup"),
]
