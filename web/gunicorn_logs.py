"""Gunicorn's logger with the feed secret and API tokens masked in its access log.

Run gunicorn with ``--logger-class web.gunicorn_logs.MaskingLogger``. The request line, path
and every environ and header field that ``access_log_format`` may name go through
:func:`web.logs.mask`, whatever the format. Imported only by gunicorn (the ``serve`` extra).
"""

from __future__ import annotations

from typing import Any

from gunicorn.glogging import Logger

from web.logs import mask


class MaskingLogger(Logger):
    """Gunicorn's own logger, each access-log field masked before it is formatted."""

    def atoms(self, resp: Any, req: Any, environ: Any, request_time: Any) -> dict[str, Any]:
        atoms: dict[str, Any] = super().atoms(resp, req, environ, request_time)
        return {key: mask(value) if isinstance(value, str) else value
                for key, value in atoms.items()}
