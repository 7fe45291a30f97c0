"""Secrets kept out of every log Rounds writes: the calendar feed's secret address and API tokens.

The feed's address carries its secret in the path (``/feeds/calendar/<secret>.ics``), because
calendar apps cannot sign in; an access log that records request lines would otherwise hand
that secret to anyone who reads the log. :func:`mask` rewrites it to
``/feeds/calendar/[secret].ics`` (and any ``rnd_…`` API token to ``rnd_[secret]``).

It is applied by :class:`MaskSecrets`, a logging filter that :func:`init_app` puts on the
loggers that write request lines or paths: werkzeug's (``rounds serve``'s access log), the
app's own, and gunicorn's access and error logs (gunicorn makes the app in each worker, or
before forking with ``--preload``, so its loggers get the filter either way, whatever
``access_log_format`` says). A reverse proxy keeps its own log: the README shows an nginx
``log_format`` that masks the secret there too.
"""

from __future__ import annotations

import logging
import re

from flask import Flask

_FEED = re.compile(r"(/feeds/calendar/)[^\s/?#\"']+?(\.ics)?(?=[\s/?#\"']|$)")
_TOKEN = re.compile(r"\brnd_[A-Za-z0-9_\-]+")
MASK = "[secret]"

LOGGERS = ("werkzeug", "gunicorn.access", "gunicorn.error")


def mask(text: str) -> str:
    """``text`` with every feed secret and API token replaced by ``[secret]``."""
    if "/feeds/calendar/" not in text and "rnd_" not in text:
        return text  # the common case, without a regular expression
    return _TOKEN.sub("rnd_" + MASK, _FEED.sub(lambda m: m.group(1) + MASK + (m.group(2) or ""),
                                               text))


class MaskSecrets(logging.Filter):
    """Rewrites a record's message with the secrets masked (it never drops a record)."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):
            return True  # a malformed record is logging's problem to report, not ours
        masked = mask(message)
        if masked != message:
            record.msg, record.args = masked, None
        return True


_FILTER = MaskSecrets()


def init_app(app: Flask) -> None:
    """Put the filter on the loggers that may see a feed address (once each)."""
    for logger in (*map(logging.getLogger, LOGGERS), app.logger):
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)
