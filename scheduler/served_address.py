"""The address links in e-mails and calendar feeds start with.

``practice.base_url`` wins when it is set (a practice behind a proxy or under gunicorn sets
it). When it is empty, links follow the address the app is served on: ``rounds serve``
records the address it binds to (``--host``/``--port`` or ``[web]``) in ``practice_meta``,
and processes without a request (``rounds worker``, ``rounds send-itineraries``) read it
back; with nothing recorded, the ``[web]`` address is used. A calendar feed, answered in a
request, follows the address it was asked at.

Why the bound address and not the last request's host: the Host header is written by
whoever sends a request, so recording it would let anyone who can reach the app put their
own host into every therapist's next e-mail (a phishing link the practice itself sends). The
bound address is chosen by whoever starts the server, and is known before the first request,
so the first morning e-mail after a start is already right.
"""

from __future__ import annotations

import socket
from dataclasses import replace
from functools import lru_cache

from sqlalchemy.orm import Session

from scheduler import practice_meta
from scheduler.settings import Settings

SERVED_URL = "served_url"

_ANY_ADDRESS = ("0.0.0.0", "::", "")


@lru_cache(maxsize=16)
def bound_url(host: str, port: int) -> str:
    """The URL of a server bound to ``host``:``port``. Bound to every interface, it is
    reached by the machine's name (127.0.0.1 would not work from a therapist's phone).
    Cached: the machine's name may take a DNS lookup, and pages ask on every view."""
    name = socket.getfqdn() if host in _ANY_ADDRESS else host
    if ":" in name:  # an IPv6 literal
        name = f"[{name}]"
    return f"http://{name}:{port}"


def record_served(session: Session, url: str) -> None:
    """Remember the address the app is served on, for processes that have no request."""
    practice_meta.write(session, SERVED_URL, url)


def recorded_url(session: Session) -> str | None:
    return practice_meta.read(session, SERVED_URL)


def link_base(settings: Settings) -> str:
    """What links start with: ``base_url``, else the ``[web]`` address ``rounds serve`` uses
    by default (callers that know better pass their settings through :func:`with_links_at`)."""
    return settings.practice.base_url or bound_url(settings.web.host, settings.web.port)


def with_links_at(settings: Settings, served: str | None) -> Settings:
    """``settings`` whose ``base_url`` is the set one, else ``served``, else the ``[web]``
    address."""
    if settings.practice.base_url:
        return settings
    url = served or link_base(settings)
    return replace(settings, practice=replace(settings.practice, base_url=url))
