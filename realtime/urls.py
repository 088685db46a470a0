from django.urls import path

from realtime.apis import TicketCreateApi

app_name = "realtime"

urlpatterns = [
    path("ticket/", TicketCreateApi.as_view(), name="ticket"),
]
