"""Every metric VaultPay's processes record, in the registry of the process that records it.

Counters and histograms are added up over all processes in Redis (store.py): a process adds
what it counted since its last flush, so a process that exits or dies loses at most its last
second. Gauges are per process (only open sockets) and summed over the processes that
flushed recently. Labels are few and bounded: kinds, statuses, failure codes, view names.
"""

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

PROCESS = CollectorRegistry(auto_describe=True)

# Settlement latencies reach minutes only when workers are down or far behind.
_SECONDS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300)
_SHORT_SECONDS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5)

TRANSFERS_ACCEPTED = Counter(
    "vaultpay_transfers_accepted",
    "Transfers stored PENDING (payments, deposits, welcome credits); replays not counted.",
    ["kind"],
    registry=PROCESS,
)
TRANSFERS_SETTLED = Counter(
    "vaultpay_transfers_settled",
    "Transfers that left PENDING, by final status (SUCCESS or FAILED).",
    ["status"],
    registry=PROCESS,
)
TRANSFERS_FAILED = Counter(
    "vaultpay_transfers_failed",
    "Transfers settled FAILED, by failure code.",
    ["failure_code"],
    registry=PROCESS,
)
SETTLE_LATENCY = Histogram(
    "vaultpay_transfer_settle_latency_seconds",
    "From accept (created_at) to settled (settled_at), per settled transfer.",
    buckets=_SECONDS,
    registry=PROCESS,
)
SETTLE_BATCH_SIZE = Histogram(
    "vaultpay_settle_batch_size",
    "Transfers settled per batch (one database transaction).",
    buckets=(1, 2, 5, 10, 20, 50, 100, 200, 500, 1000),
    registry=PROCESS,
)
SETTLE_BATCH_DURATION = Histogram(
    "vaultpay_settle_batch_duration_seconds",
    "From locking a batch's transfers to its commit.",
    buckets=_SHORT_SECONDS,
    registry=PROCESS,
)
SWEEP_WAKES = Counter(
    "vaultpay_settlement_sweep_wakes",
    "Partitions the beat sweep woke because a PENDING transfer had waited too long (a lost "
    "or late wake-up, a crashed worker, a Redis outage).",
    registry=PROCESS,
)
SOCKETS_OPEN = Gauge(
    "vaultpay_sockets_open",
    "Open WebSockets counted against their users' limit, over all socket-server processes.",
    registry=PROCESS,
)
EVENTS_DELIVERED = Counter(
    "vaultpay_events_delivered",
    "Events sent to sockets, by source: live (channel layer), replay (after_seq on connect) "
    "or fill (read from the database after a gap or a missed last event).",
    ["source"],
    registry=PROCESS,
)
EVENT_DELIVERY_LATENCY = Histogram(
    "vaultpay_event_delivery_latency_seconds",
    "From publication, right after the settling commit, to the socket's send; live events.",
    buckets=_SHORT_SECONDS,
    registry=PROCESS,
)
HTTP_REQUESTS = Counter(
    "vaultpay_http_requests",
    "HTTP requests answered by the Django application, by view, method and status.",
    ["view", "method", "status"],
    registry=PROCESS,
)
HTTP_REQUEST_DURATION = Histogram(
    "vaultpay_http_request_duration_seconds",
    "Time in the Django application per request, by view (the server's own time excluded).",
    ["view"],
    buckets=_SHORT_SECONDS,
    registry=PROCESS,
)

# Values written straight to Redis by the process that knows them (store.mark), exported
# as gauges as they are: a beat that stops leaves its last timestamp behind, which is what
# an alert on its age needs.
MARKS = {
    "vaultpay_settlement_sweep_last_run_timestamp_seconds": (
        "Unix time of beat's last settlement sweep (every 5 s): beat's heartbeat."
    ),
    "vaultpay_ledger_audit_last_run_timestamp_seconds": (
        "Unix time of beat's last scheduled ledger audit."
    ),
    "vaultpay_ledger_audit_violations": (
        "Violations found by the last scheduled ledger audit (0: the ledger is consistent)."
    ),
    "vaultpay_ledger_audit_seconds": "How long the last scheduled ledger audit took.",
}
