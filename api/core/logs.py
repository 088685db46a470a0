"""How every process logs (README, "Operating it"): one line per event, as a JSON object
(LOG_FORMAT=json, the production default) or as readable text (LOG_FORMAT=text, local).

Two kinds of lines, one format, one stream (standard error):

- our own, `structlog.get_logger("vaultpay.x").info("event", key=value)`: rendered by
  structlog and written straight to the stream. About 15 us a line, where going through the
  standard library's logging costs about 80 us: the access log writes one per request, on a
  path that costs about 1 ms in all;
- everybody else's (Django, Celery, uvicorn, and `logging.getLogger` calls): through the
  standard library's handler, rendered by the same processors (structlog's
  ProcessorFormatter).

Every line carries `timestamp` (UTC), `level`, `logger`, `event` and `request_id` (the
request's id, the id of the request that published a Celery task, or a socket's id), plus
whatever the code bound to the context (`task`, `task_id`, ...). Nothing secret is ever passed
to a logger: no password, token, ticket or Aadhaar number (a test reads a whole run's logs
for them); tracebacks are plain text, since structlog's richer renderers print each frame's
local variables.
"""

import logging
import re
import sys

import structlog
from django.core.exceptions import ImproperlyConfigured

from api.core.request_id import request_id_get

FORMATS = ("json", "text")


def _request_id(logger, method_name: str, event_dict: dict) -> dict:
    event_dict.setdefault("request_id", request_id_get())
    return event_dict


# A query string holding a socket ticket, as servers log a handshake's request line (uvicorn
# at INFO, the websockets library at DEBUG).
_TICKET_QUERY = re.compile(r"\?[^\s\"']*ticket=[^\s\"']*")


def _tickets_dropped(logger, method_name: str, event_dict: dict) -> dict:
    event = event_dict.get("event")
    if isinstance(event, str) and "ticket=" in event:
        event_dict["event"] = _TICKET_QUERY.sub("", event)
    return event_dict


# Applied to every line, ours and the standard library's.
_SHARED_PROCESSORS = [
    structlog.contextvars.merge_contextvars,
    structlog.stdlib.add_logger_name,
    structlog.stdlib.add_log_level,
    _request_id,
    _tickets_dropped,
    structlog.processors.TimeStamper(fmt="iso", utc=True),
]


class StderrLines:
    """The logger behind our own lines: writes each rendered line to standard error, looked
    up at each call as the standard library's handler holds it (Python keeps standard error
    line-buffered, so each line is written whole)."""

    def __init__(self, name: str = "") -> None:
        self.name = name

    def msg(self, message: str) -> None:
        sys.stderr.write(message + "\n")

    debug = info = warning = error = critical = exception = msg


def rendering(log_format: str) -> list:
    """The last processors: the line as JSON or as text."""
    if log_format not in FORMATS:
        choices = " or ".join(FORMATS)
        raise ImproperlyConfigured(f"LOG_FORMAT must be {choices}, not {log_format!r}.")
    if log_format == "json":
        return [structlog.processors.format_exc_info, structlog.processors.JSONRenderer()]
    return [
        structlog.dev.ConsoleRenderer(
            colors=False, exception_formatter=structlog.dev.plain_traceback
        )
    ]


def structlog_configure(
    *, log_format: str, level: str, cache_loggers: bool = True, logger_factory=StderrLines
) -> None:
    """Our own lines at `level` and above, in `log_format`, to `logger_factory(name)`. With
    `cache_loggers` a logger keeps the configuration it first logged with (the fast way);
    without, tests can configure structlog again to capture lines (conftest `log_lines`)."""
    structlog.configure(
        processors=[*_SHARED_PROCESSORS, *rendering(log_format)],
        wrapper_class=structlog.make_filtering_bound_logger(_level_number(level)),
        logger_factory=logger_factory,
        cache_logger_on_first_use=cache_loggers,
    )


def logging_config(*, log_format: str, level: str, cache_loggers: bool = True) -> dict:
    """Configures structlog and returns the matching LOGGING dict for Django's settings
    (which applies it with dictConfig in every process: web, worker, beat, socket server)."""
    structlog_configure(log_format=log_format, level=level, cache_loggers=cache_loggers)
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "structlog": {
                "()": structlog.stdlib.ProcessorFormatter,
                "foreign_pre_chain": _SHARED_PROCESSORS,
                "processors": [
                    structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                    *rendering(log_format),
                ],
            }
        },
        "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "structlog"}},
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            # SQL with its parameters: never in the logs.
            "django.db.backends": {"level": "WARNING"},
            # Django logs every 4xx as a warning; the access log already has each request.
            "django.request": {"level": "ERROR"},
        },
    }


def _level_number(level: str) -> int:
    number = logging.getLevelName(level.upper())
    if not isinstance(number, int):
        raise ImproperlyConfigured(f"LOG_LEVEL must be a logging level, not {level!r}.")
    return number
