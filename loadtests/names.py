"""Names shared by the locust side and the runner, which must not import locust (locust
monkey-patches the standard library with gevent as it is imported)."""

# Scenario -> its locust user class in loadtests/behaviour.py.
SCENARIOS = {
    "uniform": "Uniform",
    "hot-receiver": "HotReceiver",
    "hot-sender": "HotSender",
    "opposite": "Opposite",
    "replay": "Replay",
    "bad-input": "BadInput",
}
SOCKET_USER = "SocketUser"
# The request type and name under which the WebSocket user reports end-to-end latency.
LATENCY_TYPE = "WS"
LATENCY_NAME = "POST -> transfer.updated SUCCESS"
