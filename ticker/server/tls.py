"""The server's TLS context, from config.

Built on :func:`ssl.create_default_context` for client connections
(``Purpose.CLIENT_AUTH``): the standard library's vetted cipher list, no
compression, no renegotiation; plus a floor of TLS 1.2 (or 1.3 when
configured). Errors name the config key and the file.
"""

from __future__ import annotations

import ssl
from pathlib import Path

from ticker.config import ConfigError, TlsConfig

_VERSIONS = {"1.2": ssl.TLSVersion.TLSv1_2, "1.3": ssl.TLSVersion.TLSv1_3}


def server_context(cfg: TlsConfig) -> ssl.SSLContext | None:
    """The context to serve ``wss://`` with, or None while TLS is off."""
    if not cfg.enabled:
        return None
    for key, path in (("cert_file", cfg.cert_file), ("key_file", cfg.key_file)):
        try:
            Path(path).read_bytes()
        except OSError as exc:
            raise ConfigError(f"tls.{key}: cannot read {path}: {exc.strerror or exc}") from None
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.minimum_version = _VERSIONS[cfg.min_version]
    ctx.set_alpn_protocols(["http/1.1"])
    try:
        ctx.load_cert_chain(cfg.cert_file, cfg.key_file)
    except ssl.SSLError as exc:
        raise ConfigError(
            f"tls.cert_file: cannot use {cfg.cert_file} with tls.key_file {cfg.key_file} "
            f"(not PEM, or the key does not match the certificate): {exc.reason or exc}"
        ) from None
    return ctx
