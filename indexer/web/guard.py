"""What every request of ``indexer serve`` passes through, in one place, so that no page or action repeats it:

- the access token: given once in the link ``indexer serve`` prints (``?token=``), it becomes a cookie
  (HttpOnly, SameSite=Strict) and the address bar loses it; a request without it is refused;
- the Host header must be the address served (Starlette's TrustedHostMiddleware: a web page elsewhere
  cannot reach it by DNS rebinding);
- a change is a POST from the app's own origin (``Guard``) carrying the page's CSRF token (``csrf_token``,
  checked by the action wrapper with ``is_own_form``), with a body of at most MAX_BODY bytes (``BodyLimit``);
- every response forbids scripts, styles, frames and images from anywhere else (Content-Security-Policy),
  is never cached, and sends a referrer only to the app itself (SECURITY_HEADERS).
"""

from __future__ import annotations

import hashlib
import hmac
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

COOKIE = "indexer-token"
MAX_BODY = 64 * 1024  # bytes: a form of names and ids, never more
SECURITY_HEADERS = {
    # Style attributes are allowed (the boxes are placed by them), style elements and scripts only from here.
    "Content-Security-Policy": "default-src 'none'; img-src 'self'; style-src 'self'; style-src-attr 'unsafe-inline'; "
                               "script-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; "
                               "base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    # Not "no-referrer": with it a browser sends "Origin: null" with the app's own forms, which are refused.
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}


def csrf_token(token: str) -> str:
    """The CSRF token of the app's forms, derived from its access token."""
    return hmac.new(token.encode(), b"csrf", hashlib.sha256).hexdigest()


def is_own_form(sent: object, csrf: str) -> bool:
    """Whether a form's ``csrf`` field (``sent``) is the app's (compared in constant time)."""
    return hmac.compare_digest(str(sent or "").encode(), csrf.encode())


def _refused(text: str, status_code: int) -> HTMLResponse:
    return HTMLResponse(f"<!doctype html><title>indexer</title><p>{text}</p>", status_code=status_code)


class Guard:
    """The access token (a cookie set from the link) and the origin of changes, for every request; the
    security headers on every response. ``dispatch`` is a BaseHTTPMiddleware's."""

    def __init__(self, token: str):
        self.token = token

    async def dispatch(self, request: Request, call_next) -> Response:
        response = self._refusal(request)
        if response is None:
            given = request.query_params.get("token")
            if given is not None:  # the right token (checked above): keep it as a cookie, out of the address bar
                rest = urlencode([(k, v) for k, v in request.query_params.multi_items() if k != "token"])
                response = RedirectResponse(request.url.path + (f"?{rest}" if rest else ""), status_code=303)
                response.set_cookie(COOKIE, self.token, httponly=True, samesite="strict", path="/")
            else:
                response = await call_next(request)
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        return response

    def _refusal(self, request: Request) -> Response | None:
        token = request.query_params.get("token") or request.cookies.get(COOKIE) or ""
        if not hmac.compare_digest(token.encode(), self.token.encode()):
            return _refused("This needs the access token: open the link <code>indexer serve</code> printed.", 403)
        if request.method not in ("GET", "HEAD"):
            origin = request.headers.get("origin")
            own = f"{request.url.scheme}://{request.headers.get('host', '')}"
            if origin is not None and origin != own or request.headers.get("sec-fetch-site") in ("cross-site", "same-site"):
                return _refused("Refused: a change from another site.", 403)
        return None


class BodyLimit:
    """A request's body is read here whole, up to ``limit`` bytes (a form of names and ids): one larger,
    whether it says its length or is sent in chunks, is answered 413 before anything else reads it (an
    ASGI middleware: Starlette's own limit raises inside the guard's task group, a 500)."""

    def __init__(self, app, limit: int = MAX_BODY):
        self.app, self.limit = app, limit

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD"):
            await self.app(scope, receive, send)
            return
        said = dict(scope["headers"]).get(b"content-length", b"0")
        body, more = b"", said.isdigit() and int(said) <= self.limit
        while more:
            message = await receive()
            if message["type"] != "http.request":
                break
            body += message.get("body", b"")
            more = message.get("more_body", False) and len(body) <= self.limit
        if len(body) > self.limit or not said.isdigit() or int(said) > self.limit:
            refusal = _refused(f"Refused: the form is too large (at most {self.limit // 1024} KB).", 413)
            await refusal(scope, receive, send)
            return
        sent = False

        async def replay():
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)
