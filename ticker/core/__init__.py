"""The pure data path: where a tick is applied and its message encoded once.

Rule: synchronous code with no I/O. May import the standard library, numpy,
orjson and :mod:`ticker.util`; never asyncio, aiohttp, redis,
prometheus_client or :mod:`ticker.config` (values come in as arguments).
Tested without a socket.

Modules: :mod:`~ticker.core.model` (typed values, no numpy),
:mod:`~ticker.core.batch` (the one tick-column type),
:mod:`~ticker.core.table` (the symbol table: ``SymbolTable.apply``),
:mod:`~ticker.core.ingest` (table -> encode once -> hub),
:mod:`~ticker.core.encode` (market-data messages),
:mod:`~ticker.core.hub` (who is subscribed to what),
:mod:`~ticker.core.outbox` (one connection's bounded, conflating queue),
:mod:`~ticker.core.slow_consumer` (when a slow client is warned and cut off),
:mod:`~ticker.core.ring` (recent updates per symbol, for clients that resume),
:mod:`~ticker.core.resume` (whether a resuming client's gap can be filled),
:mod:`~ticker.core.stats` (plain counters and histograms),
:mod:`~ticker.core.calendar` (trading hours, day rolls, bar boundaries: the one
place that does date arithmetic), :mod:`~ticker.core.bars` and
:mod:`~ticker.core.bar_encode` (OHLC bars), :mod:`~ticker.core.bar_fanout` (bar
series on the wire: the ingest hook, subscribers, encode once), :mod:`~ticker.core.daystats`
(daily statistics), :mod:`~ticker.core.crosses` (derived cross rates),
:mod:`~ticker.core.delay` (delay lines: delayed streams, shared per symbol and
delay), :mod:`~ticker.core.usage` and :mod:`~ticker.core.usage_report`
(subscription intervals for licensing, and their sums).
"""
