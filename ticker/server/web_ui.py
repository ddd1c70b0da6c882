"""The quote board at ``GET /``: static files shipped in the package, served from memory.

The files (``ticker/server/web/``) are read once when the app is built: no file
system access per request, no path handling, so nothing to traverse. The
page imports the JavaScript SDK (``ticker/server/web/sdk/``, the ES modules ``tsc``
builds from ``clients/js``; committed, so serving needs no build step) from
``/ui/sdk/``. Only the
WebSocket path is filled in (the page resolves it against its own location,
which keeps a reverse-proxy prefix working). Responses carry an ETag and
``no-cache`` (a browser revalidates, so an upgrade shows at once), a strict
Content-Security-Policy (everything from this origin, nothing inline), and
``Referrer-Policy: no-referrer`` because a page URL may carry a token.
"""

from __future__ import annotations

import hashlib
import html
from dataclasses import dataclass
from importlib import resources

from aiohttp import web

ASSETS = {
    "board.js": "text/javascript",
    "quotes.js": "text/javascript",
    "board.css": "text/css",
    "favicon.svg": "image/svg+xml",
}
#: The candle chart and the charting library it imports (vendored: web/vendor/README.md).
CHART_ASSETS = {
    "chart.js": "text/javascript",
    "chart.css": "text/css",
    "vendor/lightweight-charts.mjs": "text/javascript",
    "vendor/LICENSE-lightweight-charts.txt": "text/plain",
}
_WS_META = '<meta name="ticker-ws-path" content="/ws">'
_HEADERS = {
    "Cache-Control": "no-cache",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": (
        "default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data:; "
        "object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
    ),
}


@dataclass(frozen=True, slots=True)
class Asset:
    body: bytes
    content_type: str
    etag: str

    @classmethod
    def of(cls, body: bytes, content_type: str) -> Asset:
        return cls(body, content_type, '"' + hashlib.sha256(body).hexdigest()[:20] + '"')

    def response(self, request: web.Request) -> web.Response:
        headers = {**_HEADERS, "ETag": self.etag}
        if self.etag in request.headers.get("If-None-Match", ""):
            return web.Response(status=304, headers=headers)
        return web.Response(body=self.body, content_type=self.content_type, charset="utf-8", headers=headers)


def load_assets(ws_path: str) -> dict[str, Asset]:
    """Every file of the board, keyed by URL name (``""`` is the page itself)."""
    files = resources.files("ticker.server") / "web"
    page = (files / "index.html").read_text(encoding="utf-8")
    if _WS_META not in page:  # our bug: the page and this module disagree
        raise RuntimeError(f"ticker/server/web/index.html lacks {_WS_META}")
    page = page.replace(_WS_META, f'<meta name="ticker-ws-path" content="{html.escape(ws_path)}">')
    assets = {"": Asset.of(page.encode(), "text/html")}
    for name, content_type in {**ASSETS, **CHART_ASSETS}.items():
        assets[name] = Asset.of((files / name).read_bytes(), content_type)
    for module in (files / "sdk").iterdir():
        if module.name.endswith(".js"):
            assets[f"sdk/{module.name}"] = Asset.of(module.read_bytes(), "text/javascript")
    if "sdk/index.js" not in assets:  # our bug: a package built without the SDK
        raise RuntimeError("ticker/server/web/sdk/index.js is missing (make sdk builds it)")
    return assets


def add_routes(app: web.Application, ws_path: str) -> None:
    assets = load_assets(ws_path)

    async def page(request: web.Request) -> web.Response:
        return assets[""].response(request)

    async def asset(request: web.Request) -> web.Response:
        found = assets.get(request.match_info["name"])
        if found is None or not request.match_info["name"]:
            raise web.HTTPNotFound(text="no such file\n")
        return found.response(request)

    async def favicon(request: web.Request) -> web.Response:
        return assets["favicon.svg"].response(request)

    app.router.add_get("/", page)
    app.router.add_get("/favicon.ico", favicon)  # what browsers ask for without a <link rel="icon">
    # /ui/board.js, /ui/sdk/index.js, /ui/vendor/...: one level of folder at most, no "..".
    app.router.add_get("/ui/{name:[A-Za-z0-9_.-]+(?:/[A-Za-z0-9_.-]+)?}", asset)
