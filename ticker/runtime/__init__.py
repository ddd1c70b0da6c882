"""The composition root: builds a running service from config.

Rule: may import every pure package (core, protocol, security, config,
util), the feeds and the bus; asyncio is allowed (it owns background
tasks). It never imports aiohttp's server side or prometheus_client: the
web shell (:mod:`ticker.server`) and metrics (:mod:`ticker.observability`)
sit above it and read it.

Modules: :mod:`~ticker.runtime.configure` (config with the feed types),
:mod:`~ticker.runtime.assemble` (feeds and instruments from config),
:mod:`~ticker.runtime.service` (:class:`~ticker.runtime.service.Service`),
:mod:`~ticker.runtime.charts` (bars from config, and the timer that closes them),
:mod:`~ticker.runtime.licensing` (delay lines and their timer, groups, usage),
:mod:`~ticker.runtime.usage_writer` (usage records to a rotating file and the bus).
"""
