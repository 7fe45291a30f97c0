"""Where a redirect given by the request (``?next=``, a form's ``next``) may lead: a path on
this site, never another site.

A browser reads a Location header by the WHATWG URL rules, not as the text it is: it drops
ASCII tab, CR and LF anywhere, trims leading and trailing control characters and spaces, and
reads ``\\`` as ``/``. So ``/\\t/evil.example`` arrives as ``//evil.example`` (another host), and
so does ``/\\evil.example``. The target is therefore normalised the way the browser will, then
parsed with :mod:`urllib.parse`; it is kept only when it is a plain path (no scheme, no host,
no leading ``//``) and holds no other control character. The normalised form is what is
returned, so the header says what the browser will follow.
"""

from __future__ import annotations

import unicodedata
from urllib.parse import urlsplit

_STRIPPED_ANYWHERE = dict.fromkeys(map(ord, "\t\n\r"))
_C0_AND_SPACE = "".join(chr(code) for code in range(0x21))


def on_site_path(target: str | None) -> str | None:
    """``target`` as the browser would read it, if that is a path on this site; else None."""
    if not target:
        return None
    normalised = target.translate(_STRIPPED_ANYWHERE).strip(_C0_AND_SPACE).replace("\\", "/")
    if not normalised.startswith("/") or normalised.startswith("//"):
        return None
    if any(unicodedata.category(char)[0] == "C" for char in normalised):
        return None  # control, format, surrogate or unassigned: no path of ours has one
    parts = urlsplit(normalised)
    if parts.scheme or parts.netloc:
        return None
    return normalised
