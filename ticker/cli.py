"""Command line: ``ticker serve``, ``feed``, ``check-config``, ``watch``, ``new-api-key``, ``dev-certs``,
``usage-report``."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ticker import __version__
from ticker.config import Config, ConfigError
from ticker.config.errors import raise_all
from ticker.config.render import to_toml
from ticker.runtime.configure import check, load

if TYPE_CHECKING:
    from feeds.base import Feed

log = logging.getLogger("ticker")


def _load(path: str | None) -> Config:
    return load(path if path is not None else os.environ.get("TICKER_CONFIG"))


def _checked(path: str | None, *, serving: bool) -> tuple[Config, list[Feed]]:
    """The config, checked as far as serving it needs: its values and the environment's,
    then the feeds it builds (their files and symbols) and the TLS and JWT key files;
    every error found is raised at once (ConfigErrors), after the warnings are printed.
    ``serving``: a file that does not exist is an error, not a warning."""
    from ticker.core.table import SymbolTable
    from ticker.runtime import markets
    from ticker.runtime.assemble import backups, build_feeds, collect_instruments
    from ticker.runtime.licensing import Licensing

    config, errors = check(path)
    feeds: list[Feed] | None = None
    try:
        feeds = build_feeds(config)
        markets.check(config, feeds)  # symbol clashes between feeds, crosses, calendars
        instruments, _ = collect_instruments(feeds, backups(config))
        Licensing.check_groups(config, SymbolTable(instruments))  # groups name the feeds' symbols
    except ConfigError as exc:
        errors.append(exc)
    for warning in _file_checks(config, errors, missing_is_error=serving):
        print(f"ticker: warning: {warning}", file=sys.stderr)
    raise_all(errors)
    assert feeds is not None
    return config, feeds


def cmd_serve(args: argparse.Namespace) -> int:
    from ticker.observability import logs
    from ticker.runtime.service import Service
    from ticker.server.app import make_app
    from ticker.server.listener import serve

    config, feeds = _checked(args.config or os.environ.get("TICKER_CONFIG"), serving=True)
    logs.setup(config.log.level, config.log.format)
    if args.workers > 1:
        if config.bus == "memory":
            raise ConfigError(
                f"bus: --workers {args.workers} needs a Redis bus, through which the workers share "
                'the feeds: set bus = "redis://127.0.0.1:6379/0" (or TICKER_BUS=...) and run '
                "`ticker feed` with the same config (docs/scaling.md)"
            )
        from ticker.server.workers import supervise

        return supervise(config, args.config or os.environ.get("TICKER_CONFIG"), args.workers)
    if args.worker_id is not None and config.usage.path:  # one usage file per worker process
        import dataclasses

        from ticker.runtime.usage_writer import worker_path

        usage = dataclasses.replace(config.usage, path=worker_path(config.usage.path, args.worker_id))
        config = dataclasses.replace(config, usage=usage)
    service = Service(config, feeds=feeds)
    app = make_app(config, service)

    s = config.server
    worker = f" (worker {args.worker_id}, pid {os.getpid()})" if args.worker_id is not None else ""
    log.info(
        "ticker %s serving %d symbols from %d feed(s) on %s://%s:%d%s as %s%s; "
        "quote board on %s://%s:%d/; auth %s",
        __version__, len(service.table), len(service.feeds), "wss" if config.tls.enabled else "ws",
        s.host, s.port, s.ws_path,
        service.role.value if config.bus == "memory" else f"gateway on {config.bus}", worker,
        "https" if config.tls.enabled else "http", s.host, s.port, "on" if config.auth.enabled else "off",
    )  # fmt: skip
    return serve(app, config, new_event_loop(s.loop), reuse_port=args.reuse_port)


def _file_checks(config: Config, errors: list[ConfigError], *, missing_is_error: bool = False) -> list[str]:
    """Use the files the config names (TLS, JWT key) as serve would; warnings for missing ones.

    A file that exists but cannot be used is an error (appended to ``errors``); one
    that does not exist on this machine is only a warning (unless
    ``missing_is_error``): configs are often checked where the secrets are not.
    """
    from ticker.security.tokens import load_jwt_key
    from ticker.server.tls import server_context

    files = [("tls.cert_file", config.tls.cert_file), ("tls.key_file", config.tls.key_file)]
    files.append(("auth.jwt.key_file", config.auth.jwt.key_file if config.auth.jwt.algorithm else ""))
    missing = set() if missing_is_error else {key for key, path in files if path and not os.path.exists(path)}
    warnings = [f"{key}: {path} does not exist on this machine" for key, path in files if key in missing]
    checks: list[Callable[[], object]] = []
    if config.tls.enabled and not missing & {"tls.cert_file", "tls.key_file"}:
        checks.append(lambda: server_context(config.tls))
    if "auth.jwt.key_file" not in missing:
        checks.append(lambda: load_jwt_key(config.auth.jwt.algorithm, config.auth.jwt.key_file))
    for use in checks:
        try:
            use()
        except ConfigError as exc:
            errors.append(exc)
    return warnings


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


def cmd_feed(args: argparse.Namespace) -> int:
    from ticker.observability import logs
    from ticker.runtime.assemble import build_feeds
    from ticker.runtime.service import Role, Service

    config = _load(args.config)
    logs.setup(config.log.level, config.log.format)
    if config.bus == "memory":
        raise ConfigError(
            '`ticker feed` publishes to a Redis bus: set bus = "redis://127.0.0.1:6379/0" '
            "(or TICKER_BUS=...); with the in-process bus `ticker serve` runs the feeds itself"
        )
    feeds = build_feeds(config)
    if args.feeds:
        wanted = [f.strip() for f in args.feeds.split(",") if f.strip()]
        names = [f.name for f in feeds]
        unknown = [w for w in wanted if w not in names]
        if unknown:
            raise ConfigError(
                f"--feeds: no feed named {', '.join(unknown)}; the config has {', '.join(names)}"
            )
        feeds = [f for f in feeds if f.name in wanted]
    service = Service(config, feeds=feeds, role=Role.FEED)
    log.info(
        "ticker %s publishing %d symbols from feed(s) %s to %s (prefix %r)",
        __version__, len(service.table), ", ".join(f.name for f in feeds), config.bus, config.bus_prefix,
    )  # fmt: skip
    with asyncio.Runner(loop_factory=lambda: new_event_loop(config.server.loop)) as runner:
        return runner.run(_run_feed(service, args.http_port))


async def _run_feed(service: object, http_port: int | None) -> int:
    from aiohttp import web

    from ticker.bus.publisher import LeaseLost
    from ticker.runtime.service import Service
    from ticker.server.app import make_app

    assert isinstance(service, Service)
    config = service.config
    runner = web.AppRunner(
        make_app(config, service),
        access_log=None,
        handle_signals=False,
        shutdown_timeout=config.server.shutdown_timeout_s,
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    setup = asyncio.create_task(runner.setup())  # connects to Redis, takes the leases, starts feeds
    stopped = asyncio.create_task(stop.wait())
    await asyncio.wait({setup, stopped}, return_when=asyncio.FIRST_COMPLETED)
    if not setup.done():
        setup.cancel()
        await asyncio.gather(setup, return_exceptions=True)
        await service.stop()
        return 0
    setup.result()
    if http_port is not None:
        site = web.TCPSite(runner, config.server.host, http_port)
        await site.start()
        log.info("feed process HTTP (healthz, readyz, metrics, api) on %s", site.name)
    assert service.failed is not None
    waiters: list[asyncio.Future[Any]] = [stopped, service.failed]
    await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
    status = 0
    if service.failed.done() and not service.failed.cancelled():
        exc = service.failed.exception()
        if isinstance(exc, LeaseLost):
            log.error("%s", exc)
        else:
            log.error("publisher failed", exc_info=exc)
        status = 1
    await runner.cleanup()
    stopped.cancel()
    return status


def cmd_check_config(args: argparse.Namespace) -> int:
    config, _ = _checked(args.path, serving=False)
    sys.stdout.write(to_toml(config))
    return 0


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {value}")
    return value


def cmd_watch(args: argparse.Namespace) -> int:
    try:
        from ticker.client.watch import watch
    except ImportError as exc:  # rich is the `watch` extra
        print(f"ticker watch needs rich ({exc}): pip install 'ticker[watch]'", file=sys.stderr)
        return 2
    import asyncio

    symbols = list(dict.fromkeys(s.upper() for s in args.symbols))
    return asyncio.run(
        watch(args.url, symbols, token=args.token, throttle_ms=args.throttle_ms, refresh_s=args.refresh)
    )


def cmd_new_api_key(args: argparse.Namespace) -> int:
    import json

    from ticker.config import ApiKeyConfig, DelayedSymbolsConfig
    from ticker.security.tokens import hash_key, new_api_key

    key = new_api_key()
    delayed: dict[int, list[str]] = {}
    for item in args.delayed:
        pattern, _, seconds = item.rpartition("=")
        if not pattern or not seconds.isdigit():
            raise ConfigError(f"{item!r} is not PATTERN=SECONDS (e.g. 'XAU*=900')", key="--delayed")
        delayed.setdefault(int(seconds), []).append(pattern)
    symbols = tuple(args.symbols) if args.symbols is not None else (() if delayed else ("*",))
    try:
        entry = ApiKeyConfig(
            args.name, hash_key(key), symbols, args.max_connections,
            tuple(DelayedSymbolsConfig(tuple(p), d) for d, p in delayed.items()),
        )  # fmt: skip
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    print(f"# API key for {entry.name}: hand it over once; only its hash is kept.", file=sys.stderr)
    print(key, file=sys.stderr)
    lines = [
        "[[auth.keys]]",
        f"name = {json.dumps(entry.name)}",
        f'sha256 = "{entry.sha256}"',
        f"symbols = {json.dumps(list(entry.symbols))}",
    ]
    if entry.max_connections:
        lines.append(f"max_connections = {entry.max_connections}")
    if entry.delayed:
        shown = [
            f"{{ symbols = {json.dumps(list(d.symbols))}, delay_s = {d.delay_s} }}" for d in entry.delayed
        ]
        lines.append(f"delayed = [{', '.join(shown)}]")
    sys.stdout.write("\n".join(lines) + "\n")
    return 0


#: What ``ticker dev-certs`` writes, with each file's mode: keys readable by the owner only.
DEV_FILES = {
    "ca.pem": 0o644, "server.pem": 0o644, "server-key.pem": 0o600,
    "jwt-public.pem": 0o644, "jwt-private.pem": 0o600, "api-key.txt": 0o600, "env.sh": 0o600,
}  # fmt: skip


def _dev_env(root: str, key_hash: str) -> dict[str, str]:
    """The overrides that make config/examples/production.toml serve on this machine."""
    return {
        "TICKER_SERVER__HOST": "127.0.0.1",
        "TICKER_SERVER__ALLOWED_ORIGINS": '["https://127.0.0.1:*", "https://localhost:*", "https://[::1]:*"]',
        "TICKER_TLS__CERT_FILE": f"{root}/server.pem",
        "TICKER_TLS__KEY_FILE": f"{root}/server-key.pem",
        "TICKER_AUTH__KEYS__0__NAME": "dev",
        "TICKER_AUTH__KEYS__0__SYMBOLS": '["*"]',
        "TICKER_AUTH__KEYS__0__SHA256": key_hash,
        "TICKER_AUTH__JWT__KEY_FILE": f"{root}/jwt-public.pem",
    }


def cmd_dev_certs(args: argparse.Namespace) -> int:
    import datetime as dt
    import shlex
    from pathlib import Path

    from ticker.security.dev_certs import make_dev_certs
    from ticker.security.tokens import hash_key, new_api_key

    root = Path(args.dir).expanduser().resolve()
    existing = [name for name in DEV_FILES if (root / name).exists()]
    if existing and not args.force:
        have = ", ".join(existing)
        print(f"ticker: dev-certs: {root} already has {have}; --force replaces them", file=sys.stderr)
        return 1
    certs = make_dev_certs(dt.datetime.now(dt.UTC))
    key = new_api_key()
    env = _dev_env(str(root), hash_key(key))
    exports = "".join(f"export {name}={shlex.quote(value)}\n" for name, value in env.items())
    contents = {
        "ca.pem": certs.ca, "server.pem": certs.server, "server-key.pem": certs.server_key,
        "jwt-public.pem": certs.jwt_public, "jwt-private.pem": certs.jwt_private,
        "api-key.txt": f"{key}\n".encode(), "env.sh": exports.encode(),
    }  # fmt: skip
    root.mkdir(mode=0o700, parents=True, exist_ok=True)
    for name, mode in DEV_FILES.items():
        path = root / name
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
        with os.fdopen(fd, "wb") as f:
            os.fchmod(f.fileno(), mode)  # also when --force replaced a file with other bits
            f.write(contents[name])
    print(
        f"""# ticker dev-certs: for trying config/examples/production.toml on this machine. In {root}:
#   ca.pem                           a CA of its own: give it to clients (curl --cacert, cafile=);
#                                    never trust it system-wide. Its key was not kept.
#   server.pem, server-key.pem       the server's certificate for localhost, 127.0.0.1 and ::1
#   jwt-public.pem, jwt-private.pem  auth.jwt.key_file, and the key to sign test JWTs with
#   api-key.txt                      the API key "dev" (every symbol), also printed on stderr
#   env.sh                           these lines, for later shells: . {shlex.quote(str(root))}/env.sh
# Use: eval "$(ticker dev-certs DIR)", then make run CONFIG=config/examples/production.toml
{exports}""",
        end="",
    )
    print(f'# API key "dev" (every symbol): {key}', file=sys.stderr)
    print(f"# board: https://127.0.0.1:8443/?token={key}", file=sys.stderr)
    return 0


def cmd_usage_report(args: argparse.Namespace) -> int:
    from ticker.core.calendar import CalendarError, parse_instant
    from ticker.core.usage_report import Report, render_csv, render_table
    from ticker.runtime.usage_writer import usage_files

    try:
        start, end = parse_instant(args.start), parse_instant(args.end)
    except CalendarError as exc:
        raise ConfigError(str(exc), key="--from/--to") from None
    if end <= start:
        raise ConfigError("must be after --from", key="--to")
    config = _load(args.config)
    source = args.source or ("file" if args.file or config.usage.path or config.bus == "memory" else "redis")
    report = Report(start, end)
    if source == "redis":
        if config.bus == "memory":
            raise ConfigError('--source redis needs a Redis bus: bus = "redis://..."', key="bus")
        asyncio.run(_read_stream(report, config.bus, config.bus_prefix, start // 1000))
    else:
        paths = [Path(f) for f in args.file]
        if not paths:
            u = config.usage
            if not u.path:
                raise ConfigError("no usage file: give --file, or set usage.path", key="usage.path")
            paths = usage_files(u.path, u.files)
        for path in paths:
            try:
                with path.open("rb") as f:
                    for line in f:
                        report.add_line(line)
            except OSError as exc:
                raise ConfigError(f"cannot read: {exc.strerror or exc}", key=str(path)) from None
    if report.bad:
        print(f"ticker: warning: skipped {report.bad} line(s) that are not usage records", file=sys.stderr)
    by = {"identity": "identity", "symbol": "symbol", None: "identity_symbol"}[args.by]
    rows = report.rows(by)  # type: ignore[arg-type]
    render = render_csv if args.csv else render_table
    sys.stdout.write(render(rows, by))  # type: ignore[arg-type]
    return 0


async def _read_stream(report: object, url: str, prefix: str, since_ms: int) -> None:
    from ticker.bus.usage_stream import read_usage
    from ticker.core.usage_report import Report

    assert isinstance(report, Report)
    async for line in read_usage(url, prefix, since_ms):
        report.add_line(line)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="ticker", description="Live market quotes over WebSocket.")
    parser.add_argument("--version", action="version", version=f"ticker {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    config_help = "TOML config file (default: built-in defaults, or $TICKER_CONFIG)"

    p = sub.add_parser("serve", help="run the service (with a Redis bus: a gateway)")
    p.add_argument("--config", help=config_help)
    p.add_argument(
        "--workers",
        type=_positive,
        default=1,
        help="gateway processes sharing the port (SO_REUSEPORT); more than 1 needs a Redis bus",
    )
    p.add_argument("--reuse-port", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--worker-id", type=int, default=None, help=argparse.SUPPRESS)
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("feed", help="run only the feeds and publish their ticks to the Redis bus")
    p.add_argument("--config", help=config_help)
    p.add_argument("--feeds", help="comma-separated feed names to run (default: every feed in the config)")
    p.add_argument(
        "--http-port",
        type=int,
        default=None,
        help="serve /healthz, /readyz, /metrics and /api/* on this port (default: no HTTP)",
    )
    p.set_defaults(func=cmd_feed)

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

    p = sub.add_parser(
        "new-api-key",
        help="make a random API key: the key goes to stderr, its [[auth.keys]] entry to stdout",
    )
    p.add_argument("--name", required=True, help="who the key is for (names the identity)")
    p.add_argument(
        "--symbols", nargs="+", default=None,
        help="symbols or glob patterns seen in real time (default: all, or none with --delayed)",
    )  # fmt: skip
    p.add_argument("--max-connections", type=int, default=0)
    p.add_argument(
        "--delayed", nargs="+", default=[], metavar="PATTERN=SECONDS",
        help="symbols seen delayed, e.g. 'XAU*=900' (docs/security.md, Delayed data)",
    )  # fmt: skip
    p.set_defaults(func=cmd_new_api_key)

    p = sub.add_parser(
        "dev-certs",
        help="write a local CA, a certificate for localhost and a test API key into DIR, and print "
        "the TICKER_* lines that serve config/examples/production.toml with them",
    )
    p.add_argument("dir", metavar="DIR")
    p.add_argument("--force", action="store_true", help="replace the files if DIR already has them")
    p.set_defaults(func=cmd_dev_certs)

    p = sub.add_parser(
        "usage-report",
        help="minutes each identity saw each symbol (real time or delayed), from the usage records",
    )
    p.add_argument("--from", dest="start", required=True, help="window start: ISO 8601 (2025-01-01) or µs")
    p.add_argument("--to", dest="end", required=True, help="window end (exclusive), as --from")
    p.add_argument("--by", choices=["identity", "symbol"], help="sum per identity or per symbol only")
    p.add_argument("--csv", action="store_true", help="CSV instead of a table")
    p.add_argument("--config", help=config_help + "; gives usage.path and the bus")
    p.add_argument(
        "--source", choices=["file", "redis"],
        help="read the usage file(s) or the bus stream (default: the file when usage.path is set)",
    )  # fmt: skip
    p.add_argument("--file", action="append", default=[], help="a usage file to read (repeatable)")
    p.set_defaults(func=cmd_usage_report)

    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except ConfigError as exc:
        problems = getattr(exc, "errors", (exc,))  # ConfigErrors: every one on its own line
        for problem in problems:
            print(f"ticker: config error: {problem}", file=sys.stderr)
        if len(problems) > 1:
            print(f"ticker: {len(problems)} config errors", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 0


if __name__ == "__main__":
    sys.exit(main())
