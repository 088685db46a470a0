"""Prometheus metrics of every process, added up across processes and hosts in Redis and
served at GET /metrics (README, "Operating it").

- `catalogue`: every metric, as prometheus-client objects that each process updates in memory
  (an update costs about a microsecond and no I/O);
- `store`: a thread per process adds what changed to Redis once a second, and reads it all
  back for the scrape; plus the few values that beat and the workers mark directly;
- `exposition`: the /metrics view.
"""
