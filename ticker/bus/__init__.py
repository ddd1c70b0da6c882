"""The Redis bus: feed processes publish, gateway processes mirror.

With ``bus = "redis://..."`` the service splits in two. ``ticker feed``
runs the feeds into its own symbol table (which assigns every ``seq``) and
publishes each applied tick, per feed, to a Redis stream plus a hash of the
latest state. Any number of ``ticker serve`` gateways read those streams and
copy the publisher's state into their own tables, so all of them show the
same ``seq`` for the same tick. docs/scaling.md explains the design.

Modules: :mod:`~ticker.bus.codec` (key layout and wire format, pure),
:mod:`~ticker.bus.outbound` (what the feed process has yet to publish, pure),
:mod:`~ticker.bus.mirror` (the gateway's sequencing rules, pure),
:mod:`~ticker.bus.publisher` and :mod:`~ticker.bus.gateway` (the Redis I/O),
:mod:`~ticker.bus.bars` (bars built in the feed process: rows, what is yet to
publish, how a gateway adopts them; pure) and :mod:`~ticker.bus.bar_redis` (their
Redis commands),
:mod:`~ticker.bus.stats` (counters; exported by
:mod:`ticker.observability.bus_metrics`), :mod:`~ticker.bus.usage_stream` (every
gateway's usage records in one stream).

Rule: may import :mod:`ticker.core`, :mod:`ticker.util` and redis; never
aiohttp, prometheus_client, the protocol or the server.
"""
