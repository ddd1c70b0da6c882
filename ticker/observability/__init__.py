"""What an SRE sees: Prometheus metrics and structured logs.

Rule: the only package that imports prometheus_client. It reads the
counters the core and the runtime keep (plain numbers, no locks) at scrape
time; nothing below it knows it exists.

Modules: :mod:`~ticker.observability.families` (metric families as table rows),
:mod:`~ticker.observability.metrics` (the service's families and registry),
:mod:`~ticker.observability.bus_metrics` (the Redis bus's families),
:mod:`~ticker.observability.bar_metrics` (the bars' families),
:mod:`~ticker.observability.logs` (text and JSON log formats).
"""
