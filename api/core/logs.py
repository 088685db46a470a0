"""How every process logs (README, "Operating it"): one line per event, as a JSON object
(LOG_FORMAT=json, the production default) or as readable text (LOG_FORMAT=text, local).

structlog renders both our own lines (`structlog.get_logger(__name__).info("event", key=value)`)
and those of the standard library's loggers (Django, Celery, uvicorn, and our older
`logging.getLogger` calls), so a process writes one format to one stream. Every line carries
`timestamp` (UTC), `level`, `logger`, `event` and `request_id` (the request's id, the id of the
request that published a Celery task, or a socket's id), plus whatever the code bound to the
context (`task`, `task_id`, `user_id`, ...). Nothing secret is ever passed to a logger:
no password, token, ticket or Aadhaar number (a test reads a whole run's logs for them).
"""

import re

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


def logging_config(*, log_format: str, level: str) -> dict:
    """Configures structlog and returns the matching LOGGING dict for Django's settings
    (which applies it with dictConfig in every process: web, worker, beat, socket server)."""
    if log_format not in FORMATS:
        choices = " or ".join(FORMATS)
        raise ImproperlyConfigured(f"LOG_FORMAT must be {choices}, not {log_format!r}.")
    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            *_SHARED_PROCESSORS,
            structlog.stdlib.PositionalArgumentsFormatter(),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    # Tracebacks as plain text: structlog's richer renderers also print each frame's local
    # variables, which may hold a password or a token.
    if log_format == "json":
        rendering = [structlog.processors.format_exc_info, structlog.processors.JSONRenderer()]
    else:
        rendering = [
            structlog.dev.ConsoleRenderer(
                colors=False, exception_formatter=structlog.dev.plain_traceback
            )
        ]
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "structlog": {
                "()": structlog.stdlib.ProcessorFormatter,
                "foreign_pre_chain": _SHARED_PROCESSORS,
                "processors": [
                    structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                    *rendering,
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
