"""locust entry point: the scenario user classes, the WebSocket user and the options.

    locust -f loadtests/locustfile.py --headless --host http://127.0.0.1:8300 \\
        -u 3 --run-time 40s --load-duration 30 --rate 50 Uniform SocketUser

Pick exactly one scenario class (it runs as one open-loop user holding `--rate`) and,
optionally, SocketUser; every user beyond the first is a SocketUser. `LOADTEST_USERS` names
the users file from `python -m loadtests.provision`. `make loadtest` does all of this, and
starts, provisions and audits the stack around it (loadtests/README.md).
"""

from locust import events

from loadtests.behaviour import (  # noqa: F401 - user classes locust finds here
    BadInput,
    HotReceiver,
    HotSender,
    Opposite,
    Replay,
    Uniform,
)
from loadtests.openloop import options_add, summary_write
from loadtests.sockets import SocketUser  # noqa: F401


@events.init_command_line_parser.add_listener
def _options(parser) -> None:
    options_add(parser)


@events.quitting.add_listener
def _summary(environment, **_kwargs) -> None:
    summary_write(environment.parsed_options.summary)
