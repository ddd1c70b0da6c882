/**
 * Errors the client reports. The server's `error` messages keep their code;
 * the client adds a few of its own. `AuthError` is the one that stops
 * reconnecting: retrying cannot fix a refused token.
 */

import type { ErrorCode, ErrorMessage, HttpErrorCode } from "./messages.js";

/** Codes of errors raised by the client itself, not sent by the server. */
export type LocalErrorCode =
  /** no reply to a request within `requestTimeoutMs` */
  | "timeout"
  /** the client was closed before the reply came */
  | "closed"
  /** the connection dropped before the reply came (ping, auth) */
  | "disconnected"
  /** the handshake was refused with HTTP 401/403 (seen where the WebSocket implementation names the status) */
  | "handshake_refused"
  /** the WebSocket implementation refused the URL */
  | "bad_url";

export class TickerError extends Error {
  readonly code: ErrorCode | HttpErrorCode | LocalErrorCode | (string & {});
  /** the request id the server echoed */
  readonly id: number | string | undefined;
  /** the request field at fault */
  readonly field: string | undefined;
  /** symbols the error is about (unknown_symbol, not_entitled) */
  readonly symbols: string[];
  /** for a subscribe that partly failed: the symbols the server did subscribe */
  readonly subscribed: string[];
  /** unknown_interval: the bar intervals the server builds */
  readonly intervals: string[];

  constructor(
    code: string,
    message: string,
    extra: Partial<Pick<TickerError, "id" | "field" | "symbols" | "subscribed" | "intervals">> = {},
  ) {
    super(message);
    this.name = "TickerError";
    this.code = code;
    this.id = extra.id;
    this.field = extra.field;
    this.symbols = extra.symbols ?? [];
    this.subscribed = extra.subscribed ?? [];
    this.intervals = extra.intervals ?? [];
  }

  static from(m: Omit<ErrorMessage, "type">, subscribed: string[] = []): TickerError {
    const extra = { id: m.id, field: m.field, symbols: m.symbols ?? [], subscribed, intervals: m.intervals ?? [] };
    return isAuthCode(m.code) ? new AuthError(m.code, m.message, extra) : new TickerError(m.code, m.message, extra);
  }
}

/** The server refused the token (or wants one): the client stops reconnecting. */
export class AuthError extends TickerError {
  constructor(code: string, message: string, extra: ConstructorParameters<typeof TickerError>[2] = {}) {
    super(code, message, extra);
    this.name = "AuthError";
  }
}

export function isAuthCode(code: string): boolean {
  return code === "auth_failed" || code === "unauthenticated";
}
