"""Logging set-up: plain lines (or JSON), secrets redacted, no request URLs (they hold the token).

Failures are one line at ERROR or WARNING naming the error's type and where in our code it
happened; the traceback goes to DEBUG. An operator reads one line per problem; an engineer
who sets LOG_LEVEL=DEBUG gets everything (still redacted). Never the update itself, never an
exception's message: both may hold what a parent typed.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import sys
import traceback
from collections.abc import Iterable
from pathlib import Path

_OUR_CODE = Path(__file__).resolve().parent.parent  # bot/ and flows/ live here
# Libraries whose every-request chatter would drown the bot's own lines.
_QUIET_LIBRARIES = ("httpx", "httpcore", "apscheduler", "tornado.access")


class RedactSecrets(logging.Filter):
    """Replace every secret in a record's final message (args included) with [redacted]."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        self.secrets = [s for s in secrets if s]

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if record.exc_info:
            # Render the traceback now so the secret can be scrubbed from it too.
            message = f"{message}\n{logging.Formatter().formatException(record.exc_info)}"
            record.exc_info = None
            record.exc_text = None
        for secret in self.secrets:
            message = message.replace(secret, "[redacted]")
        record.msg, record.args = message, None
        return True


class JsonLines(logging.Formatter):
    """One JSON object a line (LOG_FORMAT=json), for platforms that parse their logs."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        return json.dumps(entry, ensure_ascii=False)


def configure_logging(level: str, secrets: Iterable[str] = (), *, json_lines: bool = False) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        JsonLines()
        if json_lines
        else logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    )
    handler.addFilter(RedactSecrets(secrets))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # httpx logs every request URL at INFO, and Bot API URLs contain the token.
    for name in _QUIET_LIBRARIES:
        logging.getLogger(name).setLevel(logging.WARNING)
    # PTB's DEBUG output holds whole updates (names, ids, what parents typed): never below
    # INFO, whatever LOG_LEVEL says; DEBUG is for our own modules.
    logging.getLogger("telegram").setLevel(max(logging.getLevelName(level), logging.INFO))
    # The state machine library logs every callback at INFO: nearly all of the log otherwise.
    logging.getLogger("transitions").setLevel(logging.WARNING)


def where(error: BaseException) -> str:
    """The innermost place in our own code the error passed through ("bot/x.py:12 in f"), or
    the innermost place at all; file, line and function only, nothing of the values."""
    frames = traceback.extract_tb(error.__traceback__)
    ours = [f for f in frames if Path(f.filename).resolve().is_relative_to(_OUR_CODE)]
    if not frames:
        return "an unknown place"
    frame = (ours or frames)[-1]
    path = Path(frame.filename).resolve()
    shown = path.relative_to(_OUR_CODE) if path.is_relative_to(_OUR_CODE) else path.name
    return f"{shown}:{frame.lineno} in {frame.name}"


def log_failure(
    logger: logging.Logger, what: str, error: BaseException, *, level: int = logging.ERROR
) -> None:
    """One line naming the error and where it happened; the traceback only at DEBUG."""
    logger.log(level, "%s: %s at %s", what, type(error).__name__, where(error))
    if logger.isEnabledFor(logging.DEBUG):
        logger.debug("traceback of the %s above", type(error).__name__, exc_info=error)
