"""CORS for the HTTP API: :class:`~ticker.security.cors.CorsPolicy` applied to ``/api/*``.

A middleware, so every route under ``/api/`` (those added later too) and every
answer from it (errors included, so a page can read why) carries the same
headers, and a preflight ``OPTIONS`` is answered for any of them. Other paths
(the WebSocket, the board, health, metrics) pass by untouched.
"""

from __future__ import annotations

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from ticker.security.cors import CorsPolicy
from ticker.security.limits import Refusal
from ticker.server.http_api import refusal

API_PREFIX = "/api/"


def _refused(verdict: Refusal) -> web.Response:
    response = refusal(verdict)
    response.headers["Vary"] = "Origin"
    return response


def cors_middleware(policy: CorsPolicy) -> Middleware:
    @web.middleware
    async def cors(request: web.Request, handler: Handler) -> web.StreamResponse:
        if not request.path.startswith(API_PREFIX):
            return await handler(request)
        headers = request.headers
        origin = headers.get("Origin")
        no_route = isinstance(request.match_info.http_exception, web.HTTPNotFound)
        if request.method == "OPTIONS" and not no_route:
            method = headers.get("Access-Control-Request-Method")
            answer = policy.preflight(origin, method, headers.get("Access-Control-Request-Headers"))
            if isinstance(answer, Refusal):
                return _refused(answer)
            if answer is not None:
                return web.Response(status=204, headers=answer)
        verdict = policy.request(origin)
        if isinstance(verdict, Refusal):
            return _refused(verdict)
        try:
            response = await handler(request)
        except web.HTTPException as exc:  # aiohttp's own 404/405: readable by the page too
            exc.headers.update(verdict)
            raise
        response.headers.update(verdict)
        return response

    return cors
