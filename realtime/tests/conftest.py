# Wallet and worker fixtures of the transfers tests: realtime tests drive the real pipeline.
from api.transfers.tests.conftest import (  # noqa: F401
    ledger_audited,
    make_wallet,
    settlement_worker,
)
