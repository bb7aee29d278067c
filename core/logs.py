"""Structured logs: plain text by default, one JSON object per line with LOG_FORMAT=json."""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        data = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "process": record.process,
        }
        for key in ("request_id", "user_id", "township_id", "task_id", "job_id"):
            if hasattr(record, key):
                data[key] = getattr(record, key)
        if record.exc_info:
            data["exception"] = self.formatException(record.exc_info)
        return json.dumps(data, ensure_ascii=False)


def configure_logging(app) -> None:
    """Configure the root logger once per process from LOG_FORMAT and LOG_LEVEL."""
    root = logging.getLogger()
    if getattr(configure_logging, "_done", False) or app.testing:
        return
    handler = logging.StreamHandler(sys.stderr)
    if app.config["LOG_FORMAT"] == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(
            logging.Formatter("%(asctime)s %(levelname)s %(process)d %(name)s: %(message)s")
        )
    root.handlers[:] = [handler]
    root.setLevel(app.config["LOG_LEVEL"])
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)
    # pika writes about ten lines and a traceback for every refused connection attempt
    # (a worker retries several times a second while RabbitMQ is down: 190 MB of log in
    # eight minutes of broker restarts). What failed reaches the log once through dramatiq
    # ("Consumer encountered a connection error") and the sweep's own line.
    logging.getLogger("pika").setLevel(logging.CRITICAL)
    configure_logging._done = True
