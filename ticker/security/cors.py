"""Cross-origin requests to the HTTP API (``/api/*``): CORS, decided from headers.

A dashboard served from another origin (a dev server on another port, a
separate site) reads ``/api/symbols`` and ``/api/snapshot`` with ``fetch``.
The browser asks first when the request carries ``Authorization`` (a
preflight ``OPTIONS``) and shows the answer to the page only if the server
names the page's origin. Which origins may is the same allow-list as for
WebSocket handshakes (``server.allowed_origins``, :class:`OriginPolicy`):
empty allows every origin, a request without ``Origin`` is not a browser's
cross-origin request and is let through (tokens still apply).

Rules:

* An allowed origin is echoed in ``Access-Control-Allow-Origin`` (never
  ``*``: the answer depends on the list, so it also says ``Vary: Origin``),
  with ``Retry-After`` and ``WWW-Authenticate`` exposed to the page.
* A preflight is answered for ``GET``/``HEAD`` with the headers a client
  sends (``Authorization``, ``Content-Type``), cached for
  :data:`MAX_AGE_S`. Cookies are never used, so credentials are not allowed.
* An origin not on the list is refused with 403 ``origin_not_allowed``,
  preflight or not, as its WebSocket handshake would be.
"""

from __future__ import annotations

from collections.abc import Mapping

from ticker.security.admission import OriginPolicy
from ticker.security.limits import Refusal

METHODS = ("GET", "HEAD")
#: Request headers a page may send (Authorization is never covered by a ``*``, so it is named).
HEADERS = ("authorization", "content-type")
#: Response headers a page may read beyond the safelisted ones.
EXPOSED = "Retry-After, WWW-Authenticate"
#: How long a browser may cache a preflight answer (Chromium caps it at 7200).
MAX_AGE_S = 600

Headers = Mapping[str, str]


def _not_allowed(origin: str) -> Refusal:
    return Refusal(
        403,
        "origin_not_allowed",
        f"Origin {origin[:100]!r} may not use this API (server.allowed_origins)",
    )


class CorsPolicy:
    __slots__ = ("origins",)

    def __init__(self, origins: OriginPolicy) -> None:
        self.origins = origins

    def request(self, origin: str | None) -> Headers | Refusal:
        """The CORS headers for an ``/api`` response to a request from ``origin``, or
        the refusal to answer with instead."""
        if origin is None:
            return {"Vary": "Origin"}
        if not self.origins.allows(origin):
            return _not_allowed(origin)
        return {
            "Access-Control-Allow-Origin": origin,
            "Access-Control-Expose-Headers": EXPOSED,
            "Vary": "Origin",
        }

    def preflight(
        self, origin: str | None, method: str | None, headers: str | None
    ) -> Headers | Refusal | None:
        """The answer to ``OPTIONS`` with these ``Origin``, ``Access-Control-Request-Method``
        and ``-Headers`` values: the headers of a 204, a refusal, or None when it is
        not a CORS preflight at all (no Origin or no requested method)."""
        if origin is None or method is None:
            return None
        if not self.origins.allows(origin):
            return _not_allowed(origin)
        if method.strip().upper() not in METHODS:
            why = f"{method[:20]!r} is not allowed; the API answers {', '.join(METHODS)}"
            return Refusal(403, "method_not_allowed", why)
        asked = [h.strip().lower() for h in (headers or "").split(",") if h.strip()]
        extra = [h for h in asked if h not in HEADERS]
        if extra:
            shown = ", ".join(h[:40] for h in extra[:5])
            return Refusal(403, "header_not_allowed", f"request headers not allowed: {shown}")
        return {
            "Access-Control-Allow-Origin": origin,
            "Access-Control-Allow-Methods": ", ".join(METHODS),
            "Access-Control-Allow-Headers": ", ".join(h.title() for h in HEADERS),
            "Access-Control-Max-Age": str(MAX_AGE_S),
            "Vary": "Origin, Access-Control-Request-Method, Access-Control-Request-Headers",
        }
