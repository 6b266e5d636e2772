"""The few Go net/url and path behaviours the go-livepeer DOUBLES must copy to be faithful."""

from __future__ import annotations

import posixpath
from urllib.parse import quote, urlsplit


def has_control_byte(text: str) -> bool:
    return any(ord(char) < 0x20 or ord(char) == 0x7F for char in text)


def is_absolute_http_url(raw: str) -> bool:
    """Go's `url.ParseRequestURI(raw)` succeeds with an http(s) scheme and a host."""
    if not raw or has_control_byte(raw):
        return False
    try:
        parts = urlsplit(raw)
        parts.port  # noqa: B018 - raises ValueError on a bad port, as Go's parser does
    except ValueError:
        return False
    host = parts.netloc.rpartition("@")[2]
    return parts.scheme in ("http", "https") and bool(host) and " " not in host


def clean_path(path: str) -> str:
    """Go's path.Clean: one leading slash, no `.`/`..`/empty elements ("" becomes ".")."""
    if not path:
        return "."
    cleaned = posixpath.normpath(path)
    # POSIX keeps a leading "//"; Go does not.
    if cleaned.startswith("//"):
        cleaned = "/" + cleaned.lstrip("/")
    return cleaned


def join_path(*elements: str) -> str:
    """Go's url.JoinPath on a path: join, clean, keep a trailing slash of the last element."""
    joined = clean_path("/".join(element for element in elements if element))
    if elements and elements[-1].endswith("/") and not joined.endswith("/"):
        joined += "/"
    return joined


def escape_path(path: str) -> str:
    """How Go's URL.String() escapes a path (it leaves $&+,/:;=@ alone)."""
    return quote(path, safe="/$&+,:;=@")


def join_url(base: str, *segments: str) -> str:
    """Go's `(*url.URL).JoinPath(segments...).String()` for an absolute base URL."""
    parts = urlsplit(base)
    path = join_path(parts.path or "/", *segments)
    return parts._replace(path=escape_path(path)).geturl()
