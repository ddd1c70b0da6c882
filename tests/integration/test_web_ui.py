"""Serving the quote board's files: paths, caching and security headers (HTTP only)."""

import aiohttp

from tests.support.helpers import config, running


async def test_page_and_assets_are_served_with_the_configured_ws_path() -> None:
    async with running(config(server={"ws_path": "/stream"})) as srv, aiohttp.ClientSession() as http:
        async with http.get(srv.base + "/") as r:
            assert r.status == 200 and r.content_type == "text/html"
            page = await r.text()
            csp = r.headers["Content-Security-Policy"]
            assert r.headers["Referrer-Policy"] == "no-referrer"  # a page URL may carry a token
        assert '<meta name="ticker-ws-path" content="/stream">' in page
        assert "default-src 'self'" in csp and "unsafe-inline" not in csp
        for src in ("ui/board.js", "ui/board.css"):
            assert src in page
        for name, kind in [("board.js", "text/javascript"), ("quotes.js", "text/javascript"),
                           ("board.css", "text/css"), ("sdk/index.js", "text/javascript"),
                           ("sdk/client.js", "text/javascript")]:  # fmt: skip
            async with http.get(f"{srv.base}/ui/{name}") as r:
                assert r.status == 200 and r.content_type == kind and len(await r.read()) > 500
                etag = r.headers["ETag"]
            async with http.get(f"{srv.base}/ui/{name}", headers={"If-None-Match": etag}) as r:
                assert r.status == 304 and await r.read() == b""


async def test_nothing_else_is_reachable_under_ui() -> None:
    async with running() as srv, aiohttp.ClientSession() as http:
        for path in ("/ui/", "/ui/index.html", "/ui/..%2Fweb_ui.py", "/ui/%2E%2E/app.py", "/index.html",
                     "/ui/sdk/", "/ui/sdk/..%2Fboard.js", "/ui/sdk/%2E%2E%2F%2E%2E%2Fweb_ui.py",
                     "/ui/sdk/index.d.ts", "/ui/sdk/sdk/index.js"):  # fmt: skip
            async with http.get(srv.base + path) as r:
                assert r.status == 404, path
