/**
 * The wire protocol v1 (docs/protocol.md), as types: every message the server
 * sends (quotes, the trading day, bars, resume, heartbeats), every request the
 * client sends, every error, warning and status code.
 *
 * Messages are typed exactly as they travel (snake_case fields). The protocol
 * grows by adding message types and fields, so {@link decode} keeps unknown
 * fields, drops unknown types, and checks only the fields the client relies on;
 * adding a type is one entry in its table and one interface here.
 */
/** Error codes of `error` messages (docs/protocol.md, "error"). */
export const ERROR_CODES = [
    "bad_json",
    "bad_request",
    "unknown_op",
    "unknown_interval",
    "unknown_symbol",
    "too_many_symbols",
    "not_entitled",
    "unauthenticated",
    "auth_failed",
    "rate_limited",
];
/** Close codes the server uses (docs/protocol.md, close table). */
export const CloseCode = {
    NORMAL: 1000,
    GOING_AWAY: 1001,
    PROTOCOL_ERROR: 1002,
    ABNORMAL: 1006,
    POLICY_VIOLATION: 1008,
    MESSAGE_TOO_BIG: 1009,
    TRY_AGAIN_LATER: 1013,
};
// ------------------------------------------------------------------ decoding
const isStr = (v) => typeof v === "string";
const isInt = (v) => Number.isInteger(v);
const isStrs = (v) => Array.isArray(v) && v.every(isStr);
const isObj = (v) => typeof v === "object" && v !== null;
const isSeries = (m) => isStr(m["symbol"]) && isStr(m["interval"]) && isInt(m["seq"]);
/** The fields each known type must carry for the client to use it. */
const CHECKS = {
    subscribed: (m) => isStrs(m["symbols"]),
    unsubscribed: (m) => isStrs(m["symbols"]),
    snapshot: (m) => isStr(m["symbol"]) && isInt(m["seq"]),
    update: (m) => isStr(m["symbol"]) && isInt(m["seq"]),
    status: (m) => isStr(m["symbol"]) && isStr(m["status"]),
    day: (m) => isStr(m["symbol"]) && isObj(m["day"]) && isStr(m["day"]["date"]),
    bar: (m) => isSeries(m) && isInt(m["start"]),
    bars: (m) => isSeries(m) && Array.isArray(m["bars"]),
    heartbeat: () => true,
    pong: () => true,
    authenticated: (m) => isStr(m["identity"]),
    warning: (m) => isStr(m["code"]),
    error: (m) => isStr(m["code"]),
};
/**
 * A raw message as a typed one: `null` for a type this client does not know
 * (ignored, as the protocol asks), `undefined` for a known type missing a field
 * it needs (the server's bug: counted, never thrown).
 */
export function decode(raw) {
    const type = raw.type;
    if (!isStr(type) || !Object.hasOwn(CHECKS, type))
        return null;
    return CHECKS[type](raw) ? raw : undefined;
}
