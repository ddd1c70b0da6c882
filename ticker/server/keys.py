"""Typed keys for what the aiohttp application holds."""

from __future__ import annotations

from aiohttp import web

from ticker.observability.metrics import Registry
from ticker.runtime.service import Service
from ticker.server.clients import Clients
from ticker.server.flusher import Flusher

SERVICE = web.AppKey("service", Service)
REGISTRY = web.AppKey("registry", Registry)
FLUSHER = web.AppKey("flusher", Flusher)
CLIENTS = web.AppKey("clients", Clients)
