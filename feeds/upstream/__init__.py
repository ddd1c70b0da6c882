"""Upstream WebSocket ingestion (``type = "websocket"``): presets and the one connection loop."""
