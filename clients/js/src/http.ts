/**
 * The HTTP side of the API: bar history (`GET /api/bars`, docs/protocol.md,
 * "History over HTTP"). Uses the runtime's `fetch` (browsers, Node 18+), or
 * one passed in.
 *
 * A chart that reads history here and follows the stream subscribes first
 * (`subscribeBars` with `history` 0), then fetches, then `client.bars.merge`s
 * the answer: a bar that closed in between is in one of the two, and the
 * newest state per `start` wins. (Or ask the stream for the history itself:
 * `subscribeBars(…, { history })` needs no seam at all.)
 */

import { TickerError } from "./errors.js";
import type { Bar } from "./messages.js";

/**
 * The part of `fetch` used (the browser's, Node's, or any compatible one).
 * Typed here, not with the DOM's types, so that a Node project without the
 * DOM library compiles against these declarations.
 */
export type FetchLike = (
  url: string,
  init: { headers: Record<string, string>; signal?: unknown },
) => Promise<{ ok: boolean; status: number; json(): Promise<unknown> }>;

export interface BarsQuery {
  symbol: string;
  interval: string;
  /** the newest `count` bars (server default 500, at most `bars.max_history`) */
  count?: number;
  /** only bars starting at or after this: µs since the epoch, an ISO 8601 string, or a Date */
  from?: number | string | Date;
  /** only bars starting before this (exclusive); page back with the oldest `start` you hold */
  to?: number | string | Date;
  /** an API key or JWT, sent as `Authorization: Bearer` */
  token?: string;
  /** an AbortSignal, to give up the request */
  signal?: unknown;
  /** default `globalThis.fetch` */
  fetch?: FetchLike;
}

export interface BarsReply {
  symbol: string;
  interval: string;
  /** the series' seq when the server answered */
  seq: number;
  /** oldest first, the forming bar (if any) last */
  bars: Bar[];
}

const when = (v: number | string | Date): string => (v instanceof Date ? String(v.getTime() * 1000) : String(v));

/**
 * A symbol's bars over HTTP. `base` is the server's address: its HTTP base
 * (`https://host/`, `https://host/prefix/`) or its WebSocket URL
 * (`wss://host/prefix/ws`): `api/bars` is resolved next to it.
 *
 * @throws TickerError with the server's code (`unknown_interval` with
 *   `intervals`, `unknown_symbol`, `bad_request` with `field`, `bars_disabled`;
 *   `not_entitled`; `unauthenticated` as an AuthError), or `http_<status>` for
 *   an answer without a JSON error (a proxy's).
 */
export async function fetchBars(base: string | { readonly href: string }, query: BarsQuery): Promise<BarsReply> {
  const url = new URL("api/bars", typeof base === "string" ? base : base.href);
  url.protocol = url.protocol.replace(/^ws/, "http");
  url.searchParams.set("symbol", query.symbol);
  url.searchParams.set("interval", query.interval);
  if (query.count !== undefined) url.searchParams.set("count", String(query.count));
  if (query.from !== undefined) url.searchParams.set("from", when(query.from));
  if (query.to !== undefined) url.searchParams.set("to", when(query.to));
  const init: Parameters<FetchLike>[1] = { headers: query.token ? { Authorization: `Bearer ${query.token}` } : {} };
  if (query.signal) init.signal = query.signal;
  const resp = await (query.fetch ?? (globalThis as unknown as { fetch: FetchLike }).fetch)(url.href, init);
  const body = (await resp.json().catch(() => null)) as { error?: { code?: unknown; message?: unknown } } | null;
  if (!resp.ok) {
    const e = body?.error;
    if (typeof e?.code !== "string") throw new TickerError(`http_${resp.status}`, `GET ${url.pathname}: HTTP ${resp.status}`);
    throw TickerError.from({ ...e, code: e.code, message: String(e.message ?? e.code) });
  }
  return body as unknown as BarsReply;
}
