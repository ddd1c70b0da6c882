"""Typed keys for what the aiohttp application holds."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web
from prometheus_client import CollectorRegistry

from ticker.flusher import Flusher

if TYPE_CHECKING:
    from ticker.service import Service

SERVICE: web.AppKey[Service] = web.AppKey("service")
REGISTRY = web.AppKey("registry", CollectorRegistry)
FLUSHER = web.AppKey("flusher", Flusher)
