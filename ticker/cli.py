"""Command line: ``ticker serve``, ``ticker check-config``."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys

from ticker import __version__
from ticker.config import Config, ConfigError, load, to_toml

log = logging.getLogger("ticker")


def _load(path: str | None) -> Config:
    return load(path if path is not None else os.environ.get("TICKER_CONFIG"))


def cmd_serve(args: argparse.Namespace) -> int:
    from aiohttp import web

    from ticker import logs
    from ticker.app import make_app
    from ticker.service import Service

    config = _load(args.config)
    logs.setup(config.log.level, config.log.format)
    service = Service(config)
    app = make_app(config, service)

    s = config.server
    log.info(
        "ticker %s serving %d symbols from %d feed(s) on ws://%s:%d%s; quote board on http://%s:%d/",
        __version__, len(service.table), len(service.feeds), s.host, s.port, s.ws_path, s.host, s.port,
    )  # fmt: skip
    web.run_app(
        app,
        loop=new_event_loop(s.loop),
        host=s.host,
        port=s.port,
        shutdown_timeout=s.shutdown_timeout_s,
        print=None,
        access_log=None,
        handle_signals=True,
    )
    return 0


def new_event_loop(choice: str) -> asyncio.AbstractEventLoop:
    """uvloop when asked for (or when "auto" and installed), else asyncio's loop."""
    if choice != "asyncio":
        try:
            import uvloop
        except ImportError:
            if choice == "uvloop":
                raise ConfigError("server.loop: uvloop is not installed (pip install uvloop)") from None
        else:
            return uvloop.new_event_loop()
    return asyncio.new_event_loop()


def cmd_check_config(args: argparse.Namespace) -> int:
    from ticker.service import build_feeds, collect_instruments

    config = load(args.path)
    collect_instruments(build_feeds(config))  # symbol clashes between feeds
    sys.stdout.write(to_toml(config))
    return 0


def cmd_watch(args: argparse.Namespace) -> int:
    try:
        from ticker.watch import watch
    except ImportError as exc:  # rich is the `watch` extra
        print(f"ticker watch needs rich ({exc}): pip install 'ticker[watch]'", file=sys.stderr)
        return 2
    import asyncio

    symbols = list(dict.fromkeys(s.upper() for s in args.symbols))
    return asyncio.run(
        watch(args.url, symbols, token=args.token, throttle_ms=args.throttle_ms, refresh_s=args.refresh)
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="ticker", description="Live market quotes over WebSocket.")
    parser.add_argument("--version", action="version", version=f"ticker {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("serve", help="run the service")
    p.add_argument("--config", help="TOML config file (default: built-in defaults, or $TICKER_CONFIG)")
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("check-config", help="validate a config file and print the effective config")
    p.add_argument("path")
    p.set_defaults(func=cmd_check_config)

    p = sub.add_parser("watch", help="live terminal table of quotes from a running server")
    p.add_argument("symbols", nargs="+", metavar="SYMBOL")
    p.add_argument(
        "--url",
        default=os.environ.get("TICKER_URL", "ws://127.0.0.1:8080/ws"),
        help="server WebSocket URL (default: $TICKER_URL or ws://127.0.0.1:8080/ws)",
    )
    p.add_argument(
        "--token", default=os.environ.get("TICKER_TOKEN"), help="API token (default: $TICKER_TOKEN)"
    )
    p.add_argument(
        "--throttle-ms", type=int, default=0, help="at most one update per symbol per this many ms"
    )
    p.add_argument("--refresh", type=float, default=0.25, help="seconds between redraws (default 0.25)")
    p.set_defaults(func=cmd_watch)

    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except ConfigError as exc:
        print(f"ticker: config error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 0


if __name__ == "__main__":
    sys.exit(main())
