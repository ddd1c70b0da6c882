"""Many Python users connect with the classic `websocket-client` package's
callback API; make sure that works as documented in the README."""

import asyncio
import threading

import orjson
import websocket

from tests.support.helpers import running


async def test_websocket_app_callbacks_receive_snapshot_and_updates() -> None:
    received: list[dict] = []
    done = threading.Event()

    def on_open(ws: websocket.WebSocketApp) -> None:
        ws.send(orjson.dumps({"op": "subscribe", "symbols": ["EURUSD", "XAUUSD"], "id": 1}).decode())

    def on_message(ws: websocket.WebSocketApp, data: str) -> None:
        obj = orjson.loads(data)
        received.extend(obj if isinstance(obj, list) else [obj])
        if sum(m["type"] == "update" for m in received) >= 5:
            done.set()
            ws.close()

    async with running() as srv:
        app = websocket.WebSocketApp(srv.ws_url, on_open=on_open, on_message=on_message)
        thread = threading.Thread(target=app.run_forever, daemon=True)
        thread.start()
        assert await asyncio.to_thread(done.wait, 10), "no updates within 10 s"
        await asyncio.to_thread(thread.join, 5)
        assert not thread.is_alive()

    assert received[0] == {"type": "subscribed", "id": 1, "symbols": ["EURUSD", "XAUUSD"]}
    snaps = [m for m in received if m["type"] == "snapshot"]
    assert {m["symbol"] for m in snaps} == {"EURUSD", "XAUUSD"}
    last = {m["symbol"]: m["seq"] for m in snaps}
    for m in received:
        if m["type"] == "update":
            assert m["seq"] == last[m["symbol"]] + 1
            last[m["symbol"]] = m["seq"]
