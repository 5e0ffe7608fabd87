"""The lab's door: an ASGI wrapper in front of every request, on the model of Jupyter's.

A local web app is a security boundary: any web page a student visits could otherwise send
requests to ``127.0.0.1:8765``. So, before a route runs:

1. **Host.** The ``Host`` header must name the address the lab serves (127.0.0.1, localhost,
   [::1] or the ``--host`` given): a DNS-rebinding page (``Host: evil.example:8765``) gets 403.
   Bound to a wildcard (0.0.0.0) the lab has a token, and the token decides instead.
2. **Token.** With a token, the header ``X-Reti-Token``, ``?token=`` (which sets an HttpOnly,
   SameSite=Strict cookie, so the page's own requests carry it) or that cookie must hold it;
   any one that matches is enough (a wrong header never overrides a good cookie). Constant time.
3. **Origin.** A request that changes state (POST, PUT, PATCH, DELETE) must be ``application/json``
   or a ``multipart/form-data`` upload (415 otherwise: a cross-site "simple" ``text/plain`` post
   is refused), and its ``Origin``, when the browser sends one, must be the lab's own; a browser's
   ``Sec-Fetch-Site`` of ``cross-site`` or ``same-site`` is refused on every ``/api/`` request.
   A JSON post from another site needs a CORS preflight, which the lab never grants.
4. **Bytes.** A body is refused by its ``Content-Length`` and by a running count while it
   streams (413), before anything is buffered or spooled; the cap depends on the route.
5. **Headers.** Every response carries a CSP without inline scripts, ``X-Frame-Options: DENY``,
   ``Referrer-Policy: no-referrer``, ``X-Content-Type-Options: nosniff`` and
   ``Cross-Origin-Resource-Policy: same-origin``.
6. **No crash escapes** (``NoCrash``, inside Starlette's stack): an unexpected exception becomes
   one 500 JSON line and the connection stays usable (Starlette's own handler re-raises, which
   makes the server drop it).
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable

from starlette.exceptions import HTTPException
from starlette.requests import Request

from reti.lab.request import error_response

COOKIE = "reti_token"
LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")
WILDCARD_HOSTS = ("0.0.0.0", "::", "")
STATE_CHANGING = ("POST", "PUT", "PATCH", "DELETE")
BODY_TYPES = ("application/json", "multipart/form-data")
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-content-type-options", b"nosniff"),
    (b"cross-origin-resource-policy", b"same-origin"),
]
log = logging.getLogger("reti.lab")


class BodyTooLarge(HTTPException):
    """A request body past its route's cap (raised while it streams)."""

    def __init__(self, limit: int):
        super().__init__(413, f"request body over {limit} bytes")


def host_name(host_header: str) -> str:
    """``127.0.0.1:8765`` -> ``127.0.0.1``; ``[::1]:8765`` -> ``::1``; lower case."""
    host = host_header.strip().lower()
    if host.startswith("["):
        return host[1 : host.find("]")] if "]" in host else host
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


class Guard:
    """``app`` behind the checks above; ``body_limit(path)`` is the byte cap of a route."""

    def __init__(
        self,
        app,
        *,
        host: str = "127.0.0.1",
        token: str | None = None,
        body_limit: Callable[[str], int] = lambda path: 256 * 1024,
    ):
        self.app, self.token, self.body_limit = app, token, body_limit
        self.state = app.state
        self.any_host = host_name(host) in WILDCARD_HOSTS and token is not None
        self.hosts = {*LOCAL_HOSTS, host_name(host)}

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":  # lifespan: startup and shutdown pass through
            return await self.app(scope, receive, send)
        request = Request(scope)
        refusal = self._refusal(request)
        send = self._with_headers(send, request)
        if refusal is not None:
            status, message = refusal
            return await error_response(status, message)(scope, receive, send)
        limit = self.body_limit(scope["path"])
        length = request.headers.get("content-length", "")
        if length and (not length.isdigit() or int(length) > limit):
            too_large = BodyTooLarge(limit)
            return await error_response(413, too_large.detail)(scope, receive, send)

        async def counted_receive():
            message = await receive()
            if message["type"] == "http.request":
                counted_receive.total += len(message.get("body", b""))
                if counted_receive.total > limit:
                    raise BodyTooLarge(limit)
            return message

        counted_receive.total = 0
        await self.app(scope, counted_receive, send)

    def _refusal(self, request: Request) -> tuple[int, str] | None:
        """(status, message) of the first check the request fails, or None."""
        host = host_name(request.headers.get("host", ""))
        if not self.any_host and host not in self.hosts:
            allowed = ", ".join(sorted(self.hosts))
            return 403, f"this lab answers requests addressed to {allowed}, not {host!r}"
        if self.token is not None and not self._has_token(request):
            return 401, "this lab needs its token: open the address it printed"
        fetch_site = request.headers.get("sec-fetch-site", "")
        if request.url.path.startswith("/api/") and fetch_site in ("cross-site", "same-site"):
            return 403, "the lab answers only its own pages (a request from another site)"
        if request.method in STATE_CHANGING:
            kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
            body = request.headers.get("content-length", "") not in ("", "0")
            chunked = "chunked" in request.headers.get("transfer-encoding", "").lower()
            if (body or chunked or kind) and kind not in BODY_TYPES:
                return 415, "send JSON (application/json) or a form upload (multipart/form-data)"
            origin = request.headers.get("origin")
            if origin is not None and origin != f"{request.url.scheme}://{request.url.netloc}":
                return 403, f"the lab answers only its own pages, not a request from {origin!r}"
        return None

    def _has_token(self, request: Request) -> bool:
        given = (
            request.headers.get("x-reti-token"),
            request.query_params.get("token"),
            request.cookies.get(COOKIE),
        )
        expected = self.token.encode()
        return any(secrets.compare_digest(value.encode(), expected) for value in given if value)

    def _with_headers(self, send, request: Request):
        """``send`` that adds the security headers (and the token cookie after ``?token=``)."""
        extra = list(SECURITY_HEADERS)
        given = request.query_params.get("token", "")
        if self.token is not None and secrets.compare_digest(given.encode(), self.token.encode()):
            cookie = f"{COOKIE}={self.token}; HttpOnly; SameSite=Strict; Path=/"
            extra.append((b"set-cookie", cookie.encode()))

        async def wrapped(message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], *extra]
            await send(message)

        return wrapped


class NoCrash:
    """Innermost safety net (inside Starlette's error middleware, which would answer and then
    re-raise, dropping the connection): an unexpected exception becomes one 500 JSON line, is
    logged, and the server and the connection go on."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        started = False

        async def tracked_send(message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracked_send)
        except Exception as exc:
            log.exception("reti lab: %s %s failed", scope.get("method"), scope.get("path"))
            if started:
                raise
            text = f"internal error ({type(exc).__name__}); the server is still up"
            await error_response(500, text)(scope, receive, send)
