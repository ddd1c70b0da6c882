"""``GET /api/bars``: a symbol's bar history as JSON, newest last.

``?symbol=EURUSD&interval=1m&count=500`` gives the newest ``count`` closed
bars and the forming one; ``&from=…&to=…`` (µs since the epoch or ISO 8601
with an offset or ``Z``) restricts them to bars starting in ``[from, to)``,
still the newest ``count`` of those, so a chart pages back with
``to=<oldest start it has>``. Entitlements apply exactly as for quotes
(``/api/snapshot``): 401 without a token when auth is on, 403 for a symbol
outside the token's entitlements. A bad parameter is a 400 naming it.
"""

from __future__ import annotations

from aiohttp import web

from ticker.core.bar_encode import bar_dict
from ticker.core.calendar import CalendarError, parse_instant
from ticker.server.http_api import _entitlements, _error, _json
from ticker.server.keys import SERVICE

#: Bars a request gets without ``count``.
DEFAULT_COUNT = 500


def _bad(name: str, message: str) -> web.Response:
    return _error(400, "bad_request", message, field=name)


async def bars(request: web.Request) -> web.Response:
    entitled = _entitlements(request)
    if isinstance(entitled, web.Response):
        return entitled
    service = request.app[SERVICE]
    charts = service.charts
    q = request.query
    if charts is None:
        return _error(404, "bars_disabled", "this server builds no bars ([bars] enabled = false)")
    limit = service.config.bars.max_history
    symbol = q.get("symbol", "").strip()
    if not symbol:
        return _bad("symbol", "query parameter 'symbol' is required (e.g. symbol=EURUSD)")
    sid = service.table.ids.get(symbol)
    if sid is None:
        return _error(404, "unknown_symbol", f"unknown symbol {symbol!r}; GET /api/symbols lists them",
                      symbols=[symbol])  # fmt: skip
    if not entitled.allows(symbol):  # bars are real time only: a delayed grant gets none
        delay = entitled.delay_of(symbol)
        why = f"; bars are served in real time only and you see {symbol} {delay} s delayed" if delay else ""
        return _error(403, "not_entitled", f"not entitled to: {symbol}{why}", symbols=[symbol])
    interval = q.get("interval", "").strip()
    key = charts.fanout.key(sid, interval)
    if key < 0:
        labels = ", ".join(charts.labels)
        what = f"unknown interval {interval!r}" if interval else "query parameter 'interval' is required"
        return _error(400, "unknown_interval", f"{what}; this server builds {labels}",
                      field="interval", intervals=list(charts.labels))  # fmt: skip
    count_text = q.get("count")
    count = DEFAULT_COUNT if count_text is None else -1
    if count_text is not None and count_text.strip().isdigit():
        count = int(count_text)
    if not 1 <= count <= limit:
        return _bad("count", f"'count' must be an integer from 1 to {limit} (bars.max_history)")
    bounds: list[int | None] = []
    for name in ("from", "to"):
        text = q.get(name)
        if text is None:
            bounds.append(None)
            continue
        try:
            bounds.append(parse_instant(text))
        except CalendarError as exc:
            return _bad(name, f"'{name}': {exc}")
    lo, hi = bounds
    if lo is not None and hi is not None and lo >= hi:
        return _bad("from", "'from' must be before 'to'")
    series = charts.fanout.series[key]
    assert series is not None
    if lo is None and hi is None:
        found = series.history(count)[-count:]
    else:
        found = series.between(-(1 << 62) if lo is None else lo, (1 << 62) if hi is None else hi)[-count:]
    label = charts.labels[key % charts.fanout.n]
    return _json(
        {
            "symbol": symbol,
            "interval": label,
            "seq": series.seq,
            "bars": [bar_dict(symbol, label, b) for b in found],
        }
    )
