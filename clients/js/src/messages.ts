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
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

/** Codes of `warning` messages. */
export type WarningCode = "slow_consumer" | "token_expiring";

/**
 * A symbol's data status: `closed` while its market is shut (the weekend, a
 * holiday, a daily break), with the next open time; not stale, no tick is due.
 */
export type Status = "pending" | "live" | "stale" | "closed";

/** Close codes the server uses (docs/protocol.md, close table). */
export const CloseCode = {
  NORMAL: 1000,
  GOING_AWAY: 1001,
  PROTOCOL_ERROR: 1002,
  ABNORMAL: 1006,
  POLICY_VIOLATION: 1008,
  MESSAGE_TOO_BIG: 1009,
  TRY_AGAIN_LATER: 1013,
} as const;

/** Why a resume gave a snapshot instead of a replay (docs/protocol.md, "Resuming after a reconnect"). */
export type ResumeReason = "too_old" | "epoch_changed" | "unknown_seq" | "no_history" | "already_subscribed";

/** Codes of HTTP refusals before the upgrade (visible to Node clients only). */
export type HandshakeRefusalCode =
  | "unauthenticated"
  | "not_entitled"
  | "origin_not_allowed"
  | "too_many_connections_per_ip"
  | "too_many_connections_per_identity"
  | "server_full";

/** Codes of `GET /api/bars` errors (`{"error":{"code",…}}`): the protocol's, and one of HTTP's own. */
export type HttpErrorCode = ErrorCode | "bars_disabled";

/** Known codes, plus any string: a newer server may add codes. */
type Open<T extends string> = T | (string & {});

// ------------------------------------------------------------------ server -> client

export interface SubscribedMessage {
  type: "subscribed";
  id?: number | string;
  symbols: string[];
  throttle_ms?: number;
  /** a subscribe with `since`: per symbol, replayed or a snapshot follows */
  resume?: Record<string, ResumeEntry>;
  /** a subscribe with `bars`: the intervals subscribed, and the history asked */
  bars?: string[];
  history?: number;
}

/** One symbol's answer to `since`. */
export interface ResumeEntry {
  recovered: boolean;
  /** recovered: how many missed updates follow */
  replayed?: number;
  /** not recovered: why (a snapshot follows) */
  reason?: Open<ResumeReason>;
}

export interface UnsubscribedMessage {
  type: "unsubscribed";
  id?: number | string;
  symbols: string[];
  /** present when bar series ended (not quotes) */
  bars?: string[];
}

/**
 * A symbol's trading day (docs/protocol.md, "The trading day's statistics"):
 * prices are bids at the symbol's decimals, null where not known yet (no tick
 * in the day, no previous close).
 */
export interface DayStats {
  /** the trading day, ISO date; an FX day runs 17:00 → 17:00 New York and is named after its end */
  date: string;
  /** first, highest and lowest bid of the day */
  open: number | null;
  high: number | null;
  low: number | null;
  /** last bid of the previous trading day */
  prev_close: number | null;
  /** bid − prev_close, at the symbol's decimals (as of this message: the book keeps it current) */
  change: number | null;
  /** 100 × change / prev_close, 2 decimals */
  change_pct: number | null;
  /** ticks counted in the day */
  ticks: number;
}

/** Complete state of one symbol; prices and sizes are null before its first tick. */
export interface SnapshotMessage {
  type: "snapshot";
  symbol: string;
  seq: number;
  bid: number | null;
  ask: number | null;
  bid_size: number | null;
  ask_size: number | null;
  /** the tick's source time, µs since the Unix epoch */
  ts: number;
  status: Open<Status>;
  /** the sequence's identity; sent by servers that support resume */
  epoch?: string;
  /** the trading day's statistics; null before the first tick (absent: a server without them) */
  day?: DayStats | null;
  /** when the market next opens / closes, µs since the epoch; null: never (it always trades) */
  next_open?: number | null;
  next_close?: number | null;
}

/** Only the fields that changed, plus symbol, seq and ts. */
export interface UpdateMessage {
  type: "update";
  symbol: string;
  seq: number;
  ts: number;
  bid?: number | null;
  ask?: number | null;
  bid_size?: number | null;
  ask_size?: number | null;
  /** the day's fields this tick changed (a new open, high or low), to merge into the day */
  day?: Partial<Pick<DayStats, "open" | "high" | "low">>;
}

export interface StatusMessage {
  type: "status";
  symbol: string;
  status: Open<Status>;
  ts?: number;
  /** with `closed`: when the market opens again (absent: never, or the status after a resumed replay) */
  next_open?: number;
  /** with any other status: when the market closes next (absent: it never closes, or after a replay) */
  next_close?: number;
}

/** The trading day rolled (or the symbol's first tick began its first day): the new day, whole. */
export interface DayMessage {
  type: "day";
  symbol: string;
  day: DayStats;
  /** when that day began, µs since the epoch */
  ts: number;
}

/** One OHLC bar, as `bar` messages, `bars` snapshots and `GET /api/bars` carry it. */
export interface Bar {
  symbol: string;
  interval: string;
  /** µs since the epoch, UTC; `end` is exclusive */
  start: number;
  end: number;
  open: number;
  high: number;
  low: number;
  close: number;
  /** ticks it took */
  ticks: number;
  /** the series' seq at this bar's last change */
  seq: number;
  /** false: the forming bar */
  closed: boolean;
  /** changed by a late tick after it closed */
  corrected?: boolean;
}

/** A bar's new state: forming (`closed` false), closed, or corrected. */
export interface BarMessage extends Bar {
  type: "bar";
}

/** A series' snapshot: the newest `history` closed bars, oldest first, then the forming one. */
export interface BarsMessage {
  type: "bars";
  symbol: string;
  interval: string;
  seq: number;
  bars: Bar[];
}

/** The reply to the `heartbeat` op (with `id` and `interval_ms`), then one whenever the connection is idle. */
export interface HeartbeatMessage {
  type: "heartbeat";
  id?: number | string;
  interval_ms?: number;
  /** server time, µs since the epoch */
  ts: number;
}

export interface PongMessage {
  type: "pong";
  id?: number | string;
  /** server time, µs since the epoch */
  ts: number;
}

export interface AuthenticatedMessage {
  type: "authenticated";
  id?: number | string;
  /** `key:<name>` or `jwt:<sub>` */
  identity: string;
  /** µs since the epoch; null for API keys */
  expires_at: number | null;
}

export interface WarningMessage {
  type: "warning";
  code: Open<WarningCode>;
  message: string;
  /** slow_consumer */
  pending_bytes?: number;
  lag_ms?: number;
  /** token_expiring */
  expires_at?: number;
}

export interface ErrorMessage {
  type: "error";
  id?: number | string;
  code: Open<ErrorCode>;
  message: string;
  field?: string;
  /** at most 20; the message says how many more there were */
  symbols?: string[];
  /** unknown_interval: the intervals this server builds */
  intervals?: string[];
}

export type ServerMessage =
  | SubscribedMessage
  | UnsubscribedMessage
  | SnapshotMessage
  | UpdateMessage
  | StatusMessage
  | DayMessage
  | BarMessage
  | BarsMessage
  | HeartbeatMessage
  | PongMessage
  | AuthenticatedMessage
  | WarningMessage
  | ErrorMessage;

/** Any message object as it came off the wire, known type or not. */
export interface RawMessage {
  type?: unknown;
  [field: string]: unknown;
}

// ------------------------------------------------------------------ client -> server

/** Where to resume one symbol's sequence (sent by the client once the server supports it). */
export interface Since {
  seq: number;
  epoch: string;
}

export type Request =
  | {
      op: "subscribe";
      id?: number;
      symbols: string[];
      throttle_ms?: number;
      since?: Record<string, Since>;
      bars?: string | string[];
      history?: number;
    }
  | { op: "unsubscribe"; id?: number; symbols: string[]; bars?: string | string[] }
  | { op: "ping"; id?: number }
  | { op: "auth"; id?: number; token: string }
  | { op: "heartbeat"; id?: number; interval_ms: number };

// ------------------------------------------------------------------ decoding

const isStr = (v: unknown): v is string => typeof v === "string";
const isInt = (v: unknown): v is number => Number.isInteger(v);
const isStrs = (v: unknown): v is string[] => Array.isArray(v) && v.every(isStr);
const isObj = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null;
const isSeries = (m: RawMessage): boolean => isStr(m["symbol"]) && isStr(m["interval"]) && isInt(m["seq"]);

/** The fields each known type must carry for the client to use it. */
const CHECKS: Record<ServerMessage["type"], (m: RawMessage) => boolean> = {
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
export function decode(raw: RawMessage): ServerMessage | null | undefined {
  const type = raw.type;
  if (!isStr(type) || !Object.hasOwn(CHECKS, type)) return null;
  return CHECKS[type as ServerMessage["type"]](raw) ? (raw as unknown as ServerMessage) : undefined;
}
