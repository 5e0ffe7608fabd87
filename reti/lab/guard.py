"""The lab's token check: an ASGI wrapper that refuses every HTTP request without the token.

The token may come as the header ``X-Reti-Token``, as ``?token=`` (the address ``reti lab``
prints; the response then sets an HttpOnly, SameSite=Strict cookie, so the page's own requests
carry it) or as that cookie. Compared in constant time.
"""

from __future__ import annotations

import secrets

from starlette.requests import Request
from starlette.responses import JSONResponse

COOKIE = "reti_token"


class TokenGuard:
    """``app`` behind a token: anything else gets a 401 JSON error."""

    def __init__(self, app, token: str):
        self.app, self.token = app, token
        self.state = app.state

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":  # lifespan: startup and shutdown pass through
            return await self.app(scope, receive, send)
        request = Request(scope)
        given = (
            request.headers.get("x-reti-token")
            or request.query_params.get("token")
            or request.cookies.get(COOKIE)
            or ""
        )
        if not secrets.compare_digest(given.encode(), self.token.encode()):
            message = "this lab needs its token: open the address it printed"
            return await JSONResponse({"error": message}, status_code=401)(scope, receive, send)
        if not request.query_params.get("token"):
            return await self.app(scope, receive, send)
        cookie = f"{COOKIE}={self.token}; HttpOnly; SameSite=Strict; Path=/".encode()

        async def send_cookie(message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", []).append((b"set-cookie", cookie))
            await send(message)

        return await self.app(scope, receive, send_cookie)
