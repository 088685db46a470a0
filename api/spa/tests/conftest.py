# The transfers tests' wallet fixture: a user with a wallet, to ask for a ticket.
from api.transfers.tests.conftest import make_wallet  # noqa: F401
