"""Error responses shaped like Go's net/http, shared by the go-livepeer DOUBLES."""

from __future__ import annotations

from aiohttp import web

from .go_url import clean_path, escape_path


def go_clean_request_path(path: str) -> str:
    """ServeMux's cleanPath: path.Clean, keeping a trailing slash."""
    if not path:
        return "/"
    if not path.startswith("/"):
        path = "/" + path
    cleaned = clean_path(path)
    if path.endswith("/") and cleaned != "/":
        cleaned += "/"
    return cleaned


def http_error(status: int, message: str, **headers: str) -> web.Response:
    """What Go's http.Error sends: text/plain, nosniff, the message and a newline."""
    response = web.Response(status=status, text=message + "\n", headers=headers)
    response.headers["Content-Type"] = "text/plain; charset=utf-8"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def go_redirect(request: web.Request, location: str) -> web.Response:
    """What ServeMux sends for an unclean path or a missing subtree slash: 307 (Go >= 1.22)."""
    response = web.Response(status=307, headers={"Location": location})
    if request.method in ("GET", "HEAD"):
        response.content_type = "text/html"
        response.text = f'<a href="{location}">Temporary Redirect</a>.\n\n'
    return response


@web.middleware
async def go_mux_errors(request: web.Request, handler) -> web.StreamResponse:
    """Answer unclean paths, unrouted paths and methods as Go's http.ServeMux does."""
    clean = go_clean_request_path(request.path)
    if clean != request.path:
        query = request.rel_url.raw_query_string
        location = escape_path(clean) + (f"?{query}" if query else "")
        return go_redirect(request, location)
    try:
        return await handler(request)
    except web.HTTPMethodNotAllowed as error:
        allow = ", ".join(sorted(error.allowed_methods))
        return http_error(405, "Method Not Allowed", Allow=allow)
    except web.HTTPNotFound:
        return http_error(404, "404 page not found")
