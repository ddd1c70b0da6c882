"""Logs as an operator reads them: one JSON object per line from a real
``ticker serve`` process, with context, and nothing per message."""

from __future__ import annotations

import logging
import re
import sys
from typing import Any

import orjson

from ticker.observability.logs import JsonFormatter, TextFormatter

ISO_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def _record(msg: str, *args: object, exc: bool = False, **extra: Any) -> logging.LogRecord:
    exc_info = None
    if exc:
        try:
            raise ValueError("boom")
        except ValueError:
            exc_info = sys.exc_info()
    record = logging.LogRecord("ticker.test", logging.WARNING, __file__, 1, msg, args, exc_info)
    record.__dict__.update(extra)
    return record


def test_json_line_has_time_level_logger_message_and_context() -> None:
    line = JsonFormatter().format(
        _record("client disconnected: %s", "slow_consumer", peer="10.0.0.7", code=1013)
    )
    assert "\n" not in line
    obj = orjson.loads(line)
    assert ISO_UTC.match(obj.pop("time"))
    assert obj == {
        "level": "warning",
        "logger": "ticker.test",
        "message": "client disconnected: slow_consumer",
        "peer": "10.0.0.7",
        "code": 1013,
    }


def test_json_exception_stays_on_one_line() -> None:
    line = JsonFormatter().format(_record("feed failed", exc=True, feed="fx"))
    assert "\n" not in line
    obj = orjson.loads(line)
    assert obj["feed"] == "fx" and "ValueError: boom" in obj["exception"]


def test_text_line_shows_context_after_the_message() -> None:
    line = TextFormatter().format(_record("client connected", peer="127.0.0.1"))
    assert line.endswith("WARNING ticker.test: client connected [peer=127.0.0.1]")






