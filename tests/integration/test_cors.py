"""CORS on /api/* against a real server: preflights, answers and refusals, as a browser sees them."""

from __future__ import annotations

import aiohttp
import pytest

from tests.support.helpers import config, running, wait_for
from ticker.security.tokens import hash_key

pytestmark = pytest.mark.integration

DASH = "http://127.0.0.1:5173"  # a dashboard's dev server on another port
KEY = "tk_cors_test_key_0123456789abcdef"


def secured(**server: object) -> object:
    return config(
        auth={"enabled": True, "keys": [{"name": "dash", "sha256": hash_key(KEY), "symbols": ["EUR*"]}]},
        server={"host": "127.0.0.1", "port": 0, "heartbeat_s": 0, **server},
    )


async def test_by_default_any_origin_may_read_the_api() -> None:
    async with running() as srv, aiohttp.ClientSession() as http:
        await wait_for(lambda: srv.service.ready)
        async with http.get(srv.base + "/api/symbols", headers={"Origin": DASH}) as r:
            assert r.status == 200
            assert r.headers["Access-Control-Allow-Origin"] == DASH
            assert r.headers["Vary"] == "Origin"
            assert (await r.json())["symbols"]
        async with http.get(srv.base + "/api/snapshot?symbols=NOPE", headers={"Origin": DASH}) as r:
            assert r.status == 404 and r.headers["Access-Control-Allow-Origin"] == DASH  # errors too
        async with http.get(srv.base + "/api/nothing-here", headers={"Origin": DASH}) as r:
            assert r.status == 404 and r.headers["Access-Control-Allow-Origin"] == DASH
        async with http.get(srv.base + "/healthz", headers={"Origin": DASH}) as r:
            assert r.status == 200 and "Access-Control-Allow-Origin" not in r.headers  # /api only


async def test_a_preflight_with_authorization_then_the_request_with_a_token() -> None:
    async with running(secured(allowed_origins=[DASH])) as srv, aiohttp.ClientSession() as http:
        ask = {"Origin": DASH, "Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "authorization"}
        async with http.options(srv.base + "/api/snapshot?symbols=EURUSD", headers=ask) as r:
            assert r.status == 204  # no token needed: browsers never send one with a preflight
            assert r.headers["Access-Control-Allow-Origin"] == DASH
            assert "Authorization" in r.headers["Access-Control-Allow-Headers"]
            assert r.headers["Access-Control-Allow-Methods"] == "GET, HEAD"
            assert int(r.headers["Access-Control-Max-Age"]) > 0
            assert "Origin" in r.headers["Vary"]
        headers = {"Origin": DASH, "Authorization": f"Bearer {KEY}"}
        async with http.get(srv.base + "/api/snapshot?symbols=EURUSD", headers=headers) as r:
            assert r.status == 200 and r.headers["Access-Control-Allow-Origin"] == DASH
            assert (await r.json())["snapshots"][0]["symbol"] == "EURUSD"
        async with http.get(srv.base + "/api/symbols", headers={"Origin": DASH}) as r:
            assert r.status == 401  # and the page may read why
            assert r.headers["Access-Control-Allow-Origin"] == DASH
            assert "WWW-Authenticate" in r.headers["Access-Control-Expose-Headers"]


async def test_an_origin_off_the_list_is_refused_as_its_websocket_would_be() -> None:
    other = "http://127.0.0.1:6006"
    async with running(secured(allowed_origins=[DASH])) as srv, aiohttp.ClientSession() as http:
        ask = {"Origin": other, "Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "authorization"}
        async with http.options(srv.base + "/api/symbols", headers=ask) as r:
            assert r.status == 403 and "Access-Control-Allow-Origin" not in r.headers
            assert (await r.json())["error"]["code"] == "origin_not_allowed"
        headers = {"Origin": other, "Authorization": f"Bearer {KEY}"}
        async with http.get(srv.base + "/api/symbols", headers=headers) as r:
            assert r.status == 403 and "Access-Control-Allow-Origin" not in r.headers
        with pytest.raises(aiohttp.WSServerHandshakeError) as info:
            await http.ws_connect(srv.ws_url, headers={"Origin": other, "Authorization": f"Bearer {KEY}"})
        assert info.value.status == 403


async def test_preflights_for_other_methods_or_headers_say_what_is_not_allowed() -> None:
    async with running() as srv, aiohttp.ClientSession() as http:
        ask = {"Origin": DASH, "Access-Control-Request-Method": "DELETE"}
        async with http.options(srv.base + "/api/symbols", headers=ask) as r:
            assert r.status == 403 and (await r.json())["error"]["code"] == "method_not_allowed"
        ask = {"Origin": DASH, "Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "x-debug"}
        async with http.options(srv.base + "/api/symbols", headers=ask) as r:
            assert r.status == 403 and "x-debug" in (await r.json())["error"]["message"]
        async with http.options(srv.base + "/api/symbols") as r:  # a plain OPTIONS: not a preflight
            assert r.status == 405
