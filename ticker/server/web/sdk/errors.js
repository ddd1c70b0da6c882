/**
 * Errors the client reports. The server's `error` messages keep their code;
 * the client adds a few of its own. `AuthError` is the one that stops
 * reconnecting: retrying cannot fix a refused token.
 */
export class TickerError extends Error {
    code;
    /** the request id the server echoed */
    id;
    /** the request field at fault */
    field;
    /** symbols the error is about (unknown_symbol, not_entitled) */
    symbols;
    /** for a subscribe that partly failed: the symbols the server did subscribe */
    subscribed;
    /** unknown_interval: the bar intervals the server builds */
    intervals;
    constructor(code, message, extra = {}) {
        super(message);
        this.name = "TickerError";
        this.code = code;
        this.id = extra.id;
        this.field = extra.field;
        this.symbols = extra.symbols ?? [];
        this.subscribed = extra.subscribed ?? [];
        this.intervals = extra.intervals ?? [];
    }
    static from(m, subscribed = []) {
        const extra = { id: m.id, field: m.field, symbols: m.symbols ?? [], subscribed, intervals: m.intervals ?? [] };
        return isAuthCode(m.code) ? new AuthError(m.code, m.message, extra) : new TickerError(m.code, m.message, extra);
    }
}
/** The server refused the token (or wants one): the client stops reconnecting. */
export class AuthError extends TickerError {
    constructor(code, message, extra = {}) {
        super(code, message, extra);
        this.name = "AuthError";
    }
}
export function isAuthCode(code) {
    return code === "auth_failed" || code === "unauthenticated";
}
