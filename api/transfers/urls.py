from django.urls import path

from api.transfers.apis.accept import DepositCreateApi, TransferCreateApi
from api.transfers.apis.contacts import ContactsListApi
from api.transfers.apis.history import HistoryListApi, TransferGetApi
from api.transfers.apis.wallet import BalanceGetApi, CashflowGetApi

app_name = "wallet"

urlpatterns = [
    path("balance/", BalanceGetApi.as_view(), name="balance"),
    path("transfer/", TransferCreateApi.as_view(), name="transfer-create"),
    path("transfers/<str:transfer_id>/", TransferGetApi.as_view(), name="transfer-detail"),
    path("history/", HistoryListApi.as_view(), name="history"),
    path("cashflow/", CashflowGetApi.as_view(), name="cashflow"),
    path("deposits/", DepositCreateApi.as_view(), name="deposit-create"),
    path("contacts/", ContactsListApi.as_view(), name="contacts"),
]
