/**
 * The client: one logical connection to a ticker server, kept open across
 * reconnects. This is the I/O shell: it moves frames between a WebSocket and
 * the pure parts, which make every decision — {@link QuoteBook} the quotes,
 * {@link BarStore} the bars, {@link Lifecycle} the connection state and whether
 * to retry, {@link Subscriptions} / {@link BarSubscriptions} what to resubscribe
 * (quotes resume from where they were: `resume.ts`), {@link Requests} the
 * promises, {@link Keepalive} liveness (pings or server heartbeats),
 * {@link backoff} the delays.
 *
 * Works with any WebSocket that has the browser's interface: the browser's own,
 * Node 22's global one, or the `ws` package's on Node 20 (`{ WebSocket }`).
 */

import { type Change, type Quote, QuoteBook } from "./book.js";
import { type BarChange, BarStore, splitKey } from "./bars.js";
import { backoff } from "./backoff.js";
import { Emitter, type Listener } from "./emitter.js";
import { AuthError, TickerError } from "./errors.js";
import { unpack } from "./frames.js";
import { Keepalive } from "./keepalive.js";
import { type ConnState, Lifecycle, verdict } from "./lifecycle.js";
import {
  type AuthenticatedMessage,
  type Bar,
  type DayMessage,
  type ErrorMessage,
  type HeartbeatMessage,
  type RawMessage,
  type Request,
  type ServerMessage,
  type WarningMessage,
  decode,
} from "./messages.js";
import { MessageQueue, type OverflowMessage } from "./queue.js";
import { LISTED_MAX, PER_SYMBOL, Requests, type Result } from "./requests.js";
import { type Recovery, outcomes, since } from "./resume.js";
import { BarSubscriptions, Subscriptions, barRequest, keysOf, request } from "./subscriptions.js";

/** The part of the WebSocket interface the client uses (browsers, Node 22+, `ws`). */
export interface WebSocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  // `any`: each implementation has its own event types
  addEventListener(type: "open" | "message" | "error" | "close", listener: (event: any) => void): void;
}

export interface WebSocketConstructor {
  new (url: string): WebSocketLike;
}

export type TokenProvider = () => string | Promise<string>;

export interface ConnectOptions {
  /**
   * An API key or a JWT, or a function returning one (called for every
   * connection, and when the server warns that the token expires).
   */
  token?: string | TokenProvider;
  /**
   * Where the token goes. `"message"` (default): an `auth` message right after
   * the upgrade — kept out of URLs and logs, and a refusal is visible in every
   * runtime. `"query"`: the URL's `token` parameter (for proxies that check it).
   */
  tokenIn?: "message" | "query";
  /** The WebSocket class; default `globalThis.WebSocket`. On Node 20: `(await import("ws")).WebSocket`. */
  WebSocket?: WebSocketConstructor;
  /** Reconnect after a connection drops (default true). */
  reconnect?: boolean;
  /** Reconnect delays in ms; default {@link backoff}(): 0.5 s doubling to 30 s, jittered. */
  backoff?: () => Iterator<number>;
  /** A connection that lived this long resets the backoff (default 5000 ms). */
  healthyAfterMs?: number;
  /** Ping when nothing was received for this long (default 15000 ms; 0: never). */
  pingIntervalMs?: number;
  /** Reconnect when nothing was received for this long (default 35000 ms; 0: never). */
  idleTimeoutMs?: number;
  /**
   * Ask the server for heartbeats (`{"op":"heartbeat"}`) every this many ms of
   * idleness (1000–60000; `true`: 2000, the default; `false`: ping instead).
   * Once the server agrees the client stops pinging and treats
   * `silenceFactor` × the interval without any frame as a dead connection;
   * a server without heartbeats answers `unknown_op` and is pinged.
   */
  serverHeartbeat?: boolean | number;
  /** With server heartbeats: silence longer than this many intervals is a dead connection (default 2.5; more than 1). */
  silenceFactor?: number;
  /** Reject a request with code `timeout` when no reply came this long (default 10000 ms). */
  requestTimeoutMs?: number;
  /** Give up an attempt that has not connected after this long (default 10000 ms). */
  connectTimeoutMs?: number;
  /** After a reconnect, ask to resume where each symbol was (`since`) when the server gave an epoch (default true). */
  resume?: boolean;
  /** Bars kept per series, the oldest dropped first (default 10000). */
  maxBars?: number;
  /** Messages an async iterator buffers before dropping the oldest (default 10000). */
  bufferSize?: number;
  /** Wall clock in ms (default: `performance.timeOrigin + performance.now()`). */
  now?: () => number;
}

/** Local message: a connection opened. */
export interface ConnectedMessage {
  type: "connected";
  local: true;
  /** 1 for the first connection, then counting reconnects */
  attempt: number;
  url: string;
}

/** Local message: a connection (or an attempt) ended. */
export interface DisconnectedMessage {
  type: "disconnected";
  local: true;
  code: number | null;
  reason: string;
  /** when the next attempt starts; null when the client is closed for good */
  retryInMs: number | null;
  /** why the client gave up, when it did (an AuthError) */
  error?: TickerError;
}

/**
 * A server message as the client passes it on: every known type but `heartbeat`, which
 * the client consumes (it only proves the connection alive; `raw` listeners still see it).
 */
export type DataMessage = Exclude<ServerMessage, HeartbeatMessage>;

/** What `for await (const m of client)` yields: every known server message (but heartbeats), plus local ones. */
export type Message = DataMessage | ConnectedMessage | DisconnectedMessage | OverflowMessage;

/** The second argument of `quote` listeners. */
export interface QuoteEvent extends Change {
  /** when the frame arrived, ms (the client's `now`) */
  readonly receivedAt: number;
  /** for an update: arrival minus the tick's source time, ms */
  readonly latencyMs: number | null;
}

export interface StatusEvent {
  symbol: string;
  status: Quote["status"];
  previous: Quote["status"] | undefined;
  /** when the market opens again (with `closed`) / closes next, µs since the epoch; null: never */
  nextOpen: number | null;
  nextClose: number | null;
}

/** The `bars` event: a series' snapshot arrived and replaced what the store held. */
export interface BarsEvent {
  symbol: string;
  interval: string;
  /** the series, oldest first; the forming bar (if any) last */
  bars: Bar[];
}

export interface GapEvent {
  symbol: string;
  /** seq before the gap and the seq that arrived */
  from: number;
  to: number;
  /** updates the server merged (conflation, throttling); the quote is still right */
  missed: number;
}

export interface ClientEvents {
  open: [ConnectedMessage];
  close: [DisconnectedMessage];
  state: [ConnState];
  /** every known server message (but heartbeats), in order */
  message: [DataMessage];
  /** every message object as received, unknown types included */
  raw: [RawMessage];
  /** a symbol's quote changed (snapshot, update, status, or stale on a disconnect) */
  quote: [Quote, QuoteEvent];
  status: [StatusEvent];
  /** a symbol's trading day rolled: its quote with the new day (`quote.day`), and the message */
  day: [Quote, DayMessage];
  gap: [GapEvent];
  /** a resubscription's answer to `since`, per symbol (also kept in `client.recovery`) */
  resume: [ReadonlyMap<string, Recovery>];
  /** a bar changed: forming, closed, corrected (`change.previous` is its state before) */
  bar: [Bar, BarChange];
  /** a series' snapshot: after `subscribeBars`, and after every reconnect */
  bars: [BarsEvent];
  authenticated: [AuthenticatedMessage];
  warning: [WarningMessage];
  /** server errors no promise received, auth failures, token provider failures */
  error: [TickerError];
}

const OPEN = 1;
const CLOSED = 3;

function assertNever(m: never): never {
  throw new Error(`no handler for message type ${(m as { type: string }).type}`);
}

function defaultClock(): number {
  const p = globalThis.performance;
  return p ? p.timeOrigin + p.now() : Date.now();
}

type Symbols = string | Iterable<string>;
const list = (v: Symbols): string[] => [...new Set(typeof v === "string" ? [v] : v)];
const symbolsOfKeys = (keys: readonly string[]): string[] => [...new Set(keys.map((k) => splitKey(k)?.[0] ?? k))];

/** 0 (never) to 60000 ms, whole: what the server takes for `throttle_ms`. */
function badThrottle(throttleMs: number): RangeError | null {
  return Number.isInteger(throttleMs) && throttleMs >= 0 && throttleMs <= 60_000
    ? null
    : new RangeError(`throttleMs must be an integer from 0 to 60000, not ${throttleMs}`);
}

function withToken(url: string, token: string): string {
  const u = new URL(url);
  u.searchParams.set("token", token);
  return u.href;
}

export class Client {
  readonly url: string;
  /** latest quote per subscribed symbol */
  readonly book = new QuoteBook();
  /** bars per subscribed series (`subscribeBars`) */
  readonly bars: BarStore;
  /** connections after the first; messages not understood (malformed) or of unknown types (ignored) */
  readonly stats = { reconnects: 0, malformed: 0, ignored: 0 };

  readonly #WS: WebSocketConstructor;
  readonly #o: Required<Omit<ConnectOptions, "token" | "WebSocket">>;
  #token: string | TokenProvider | undefined;
  readonly #life = new Lifecycle();
  readonly #subs = new Subscriptions();
  readonly #barSubs = new BarSubscriptions();
  readonly #recovery = new Map<string, Recovery>();
  readonly #req = new Requests();
  readonly #events = new Emitter<ClientEvents>();
  readonly #queues = new Set<MessageQueue<Message>>();
  readonly #keepalive: Keepalive;
  #delays: Iterator<number>;
  #ws: WebSocketLike | null = null;
  #opened = false;
  #openedAt = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #tick: ReturnType<typeof setInterval> | undefined;
  #authId = 0;
  #authRefused = false;
  #heartbeatId = 0;
  readonly #heartbeatMs: number;
  #errorText = "";
  #done: Promise<void> | undefined;

  constructor(url: string, options: ConnectOptions = {}) {
    const WS = options.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
    if (!WS) {
      throw new TypeError(
        "no WebSocket in this runtime: pass one, e.g. connect(url, { WebSocket }) with WebSocket from the ws package (Node < 22)",
      );
    }
    this.url = url;
    this.#WS = WS;
    this.#token = options.token;
    this.#o = {
      tokenIn: "message",
      reconnect: true,
      backoff: () => backoff(),
      healthyAfterMs: 5000,
      pingIntervalMs: 15_000,
      idleTimeoutMs: 35_000,
      serverHeartbeat: true,
      silenceFactor: 2.5,
      requestTimeoutMs: 10_000,
      connectTimeoutMs: 10_000,
      resume: true,
      maxBars: 10_000,
      bufferSize: 10_000,
      now: defaultClock,
      ...Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)),
    };
    const hb = this.#o.serverHeartbeat;
    this.#heartbeatMs = hb === true ? 2000 : hb || 0;
    if (typeof hb === "number" && hb !== 0 && !(Number.isInteger(hb) && hb >= 1000 && hb <= 60_000)) {
      // The server takes 1000..60000 ms (docs/protocol.md, "Heartbeats").
      throw new RangeError(`serverHeartbeat must be true, false or 1000..60000 ms, not ${hb}`);
    }
    if (!(this.#o.silenceFactor > 1)) {
      throw new RangeError(`silenceFactor must be more than 1 (heartbeats can be late), not ${this.#o.silenceFactor}`);
    }
    this.bars = new BarStore(this.#o.maxBars);
    this.#delays = this.#o.backoff();
    this.#keepalive = new Keepalive(this.#o.pingIntervalMs, this.#o.idleTimeoutMs);
    void this.#connect();
  }

  // ---------------------------------------------------------------- reading

  /** `idle`, `connecting`, `open`, `waiting` (backing off) or `closed`. */
  get state(): ConnState {
    return this.#life.state;
  }

  /** The symbols wanted: subscribed, or to be subscribed on the next connect. */
  get symbols(): string[] {
    return this.#subs.symbols;
  }

  /** The bar series wanted, as `[symbol, interval]`. */
  get barSeries(): [string, string][] {
    return this.#barSubs.series;
  }

  /** How each symbol came back on the last reconnect that resumed it (see the `resume` event). */
  get recovery(): ReadonlyMap<string, Recovery> {
    return this.#recovery;
  }

  on<K extends keyof ClientEvents>(type: K, listener: Listener<ClientEvents[K]>): () => void {
    return this.#events.on(type, listener);
  }

  once<K extends keyof ClientEvents>(type: K, listener: Listener<ClientEvents[K]>): () => void {
    return this.#events.once(type, listener);
  }

  off<K extends keyof ClientEvents>(type: K, listener: Listener<ClientEvents[K]>): void {
    this.#events.off(type, listener);
  }

  /** Every message from now on, until the client closes (each loop has its own bounded buffer). */
  [Symbol.asyncIterator](): AsyncIterableIterator<Message> {
    const queue: MessageQueue<Message> = new MessageQueue(this.#o.bufferSize, () => this.#queues.delete(queue));
    if (this.#life.state === "closed") queue.end();
    else this.#queues.add(queue);
    return queue;
  }

  // ---------------------------------------------------------------- requests

  /**
   * Subscribe (now, or on the next connect): resolves with the symbols once the
   * server acked them; their snapshots follow. Rejects with a {@link TickerError}
   * on an error reply: `unknown_symbol` / `not_entitled` name the refused
   * symbols in `symbols` (the others, in `subscribed`, are live), and
   * `too_many_symbols` / `bad_request` mean nothing was subscribed. Subscribing
   * again to a held symbol changes its throttle and sends a fresh snapshot.
   */
  subscribe(symbols: Symbols, options: { throttleMs?: number } = {}): Promise<Result> {
    if (this.#life.state === "closed") return Promise.reject(this.#closedError());
    const throttleMs = options.throttleMs ?? 0;
    // Checked here, not only by the server: a wish it refuses would be re-sent on every reconnect.
    const bad = badThrottle(throttleMs);
    if (bad) return Promise.reject(bad);
    const added = this.#subs.add(list(symbols), throttleMs);
    const result = this.#req.subscribe(added);
    if (added.length && this.#isOpen()) this.#sendSubscribe(added, throttleMs);
    return result;
  }

  /** Unsubscribe; resolves once the server confirmed (at once while disconnected). */
  async unsubscribe(symbols: Symbols): Promise<Result> {
    const removed = this.#subs.remove(list(symbols));
    this.book.forget(removed); // late updates for them are dropped from now on
    this.#req.cancel(removed);
    if (!removed.length || !this.#isOpen()) return { symbols: removed };
    const id = this.#send({ op: "unsubscribe", symbols: removed });
    const reply = await this.#req.expect<{ type: "unsubscribed"; symbols: string[] }>(id, "unsubscribed");
    return { symbols: reply.symbols.length ? reply.symbols : removed };
  }

  /**
   * Follow the bars of `symbols` for one interval or several (`"1m"`, `["1m",
   * "1h"]`): resolves with the symbols once the server acked them; each
   * series' `bars` snapshot (the newest `history` closed bars, then the forming
   * one) follows, then `bar` messages, all kept in {@link Client.bars}. Rejects
   * like {@link Client.subscribe}, plus `unknown_interval` (`err.intervals`
   * lists those the server builds; nothing was subscribed). After a reconnect
   * every series is asked again with its `history`, so its fresh snapshot
   * replaces the series. Asking again for a held series sends a fresh snapshot.
   */
  subscribeBars(symbols: Symbols, intervals: Symbols, options: { history?: number; throttleMs?: number } = {}): Promise<Result> {
    if (this.#life.state === "closed") return Promise.reject(this.#closedError());
    const { history = 0, throttleMs = 0 } = options;
    const ivs = list(intervals);
    const bad =
      badThrottle(throttleMs) ??
      (Number.isInteger(history) && history >= 0 ? null : new RangeError(`history must be a whole number >= 0, not ${history}`)) ??
      (ivs.length ? null : new RangeError("no bar interval given"));
    if (bad) return Promise.reject(bad);
    const syms = list(symbols);
    const keys = this.#barSubs.add(syms, ivs, history, throttleMs);
    const result = this.#req.subscribe(keys);
    if (keys.length && this.#isOpen()) {
      for (const iv of ivs) this.#req.sentSubscribe(this.#send(barRequest(syms, iv, history, throttleMs)), keysOf(syms, [iv]));
    }
    return result.then(
      (r) => ({ symbols: symbolsOfKeys(r.symbols) }),
      (e: unknown) => {
        // The promise tracked series; the caller asked for symbols.
        if (e instanceof TickerError) Object.assign(e, { symbols: symbolsOfKeys(e.symbols), subscribed: symbolsOfKeys(e.subscribed) });
        throw e;
      },
    );
  }

  /** Stop following bar series; resolves once the server confirmed (at once while disconnected). */
  async unsubscribeBars(symbols: Symbols, intervals: Symbols): Promise<Result> {
    const removed = this.#dropSeries(keysOf(list(symbols), list(intervals)));
    this.#req.cancel(removed);
    const pairs = removed.map((k) => splitKey(k) as [string, string]);
    const syms = [...new Set(pairs.map((p) => p[0]))];
    if (!removed.length || !this.#isOpen()) return { symbols: syms };
    await this.#req.expect(this.#send({ op: "unsubscribe", symbols: syms, bars: [...new Set(pairs.map((p) => p[1]))] }), "unsubscribed");
    return { symbols: syms };
  }

  /** Ask fresh snapshots for symbols (all wanted ones by default), e.g. after a gap you care about. */
  async resync(symbols: Iterable<string> = this.#subs.symbols): Promise<Result> {
    const groups = new Map<number, string[]>();
    for (const s of symbols) {
      const t = this.#subs.throttleOf(s);
      if (t !== undefined) groups.set(t, [...(groups.get(t) ?? []), s]);
    }
    const results = await Promise.all([...groups].map(([t, syms]) => this.subscribe(syms, { throttleMs: t })));
    return { symbols: results.flatMap((r) => r.symbols) };
  }

  /** Round trip to the server, ms. */
  async ping(): Promise<number> {
    if (!this.#isOpen()) throw new TickerError("disconnected", "not connected");
    const start = this.#o.now();
    await this.#req.expect(this.#send({ op: "ping" }), "pong");
    return this.#o.now() - start;
  }

  /**
   * Use a fresh token: sent now when connected (resolves with the server's
   * `authenticated`; null while disconnected), and for later connections
   * unless the token comes from a function, which is asked again each time.
   */
  async auth(token: string): Promise<AuthenticatedMessage | null> {
    this.#token = typeof this.#token === "function" ? this.#token : token;
    if (!this.#isOpen()) return null;
    this.#authId = this.#send({ op: "auth", token });
    return this.#req.expect<AuthenticatedMessage>(this.#authId, "authenticated");
  }

  /** Close for good: pending requests reject with code `closed`, iterators end. Resolves when the socket closed. */
  close(): Promise<void> {
    if (this.#life.state !== "closed") {
      const ws = this.#ws;
      this.#finish(1000, "closed by the client");
      if (ws && ws.readyState !== CLOSED) {
        this.#done = new Promise<void>((resolve) => {
          const safety = setTimeout(resolve, 2000); // a socket that never reports its close
          ws.addEventListener("close", () => {
            clearTimeout(safety);
            resolve();
          });
        });
        try {
          ws.close(1000, "client closed");
        } catch {
          /* already closing */
        }
      }
    }
    return this.#done ?? Promise.resolve();
  }

  // ---------------------------------------------------------------- connection

  #isOpen(): boolean {
    return this.#life.state === "open" && this.#ws?.readyState === OPEN;
  }

  #to(state: ConnState, why: string): void {
    this.#life.to(state, why);
    this.#events.emit("state", state);
  }

  async #connect(): Promise<void> {
    this.#to("connecting", "connect");
    let token: string | undefined;
    try {
      token = typeof this.#token === "function" ? await this.#token() : this.#token;
    } catch (err) {
      this.#events.emit("error", new TickerError("auth_failed", `token provider failed: ${String(err)}`));
      this.#lost(null, "token provider failed", false);
      return;
    }
    if (this.#life.state !== "connecting") return; // closed meanwhile
    let ws: WebSocketLike;
    try {
      ws = new this.#WS(token && this.#o.tokenIn === "query" ? withToken(this.url, token) : this.url);
    } catch (err) {
      const error = new TickerError("bad_url", `cannot open ${this.url}: ${String(err)}`);
      this.#finish(null, error.message, error);
      return;
    }
    this.#ws = ws;
    this.#opened = this.#authRefused = false;
    this.#errorText = "";
    this.#timer = setTimeout(() => {
      if (this.#ws !== ws) return;
      this.#drop(ws);
      this.#lost(null, `no connection within ${this.#o.connectTimeoutMs} ms`, false);
    }, this.#o.connectTimeoutMs);
    ws.addEventListener("open", () => this.#ws === ws && this.#open(token));
    ws.addEventListener("message", (ev: { data: unknown }) => this.#ws === ws && this.#frame(ev.data));
    ws.addEventListener("error", (ev: { message?: unknown; error?: { message?: unknown } }) => {
      if (this.#ws === ws) this.#errorText = String(ev?.message ?? ev?.error?.message ?? "");
    });
    ws.addEventListener("close", (ev: { code?: number; reason?: string }) => {
      if (this.#ws === ws) this.#lost(ev.code ?? null, ev.reason ?? "", this.#opened);
    });
  }

  #open(token: string | undefined): void {
    clearTimeout(this.#timer);
    const now = this.#o.now();
    this.#opened = true;
    this.#openedAt = now;
    this.#keepalive.reset(now);
    this.book.forget(this.book.symbols().filter((s) => !this.#subs.has(s)));
    // The token first, even before listeners hear of the open: the server serves nothing else before it.
    if (token && this.#o.tokenIn === "message") this.#authId = this.#send({ op: "auth", token });
    // Heartbeats may be asked before auth; pings go on until the server agrees.
    if (this.#heartbeatMs) this.#heartbeatId = this.#send({ op: "heartbeat", interval_ms: this.#heartbeatMs });
    this.#to("open", "socket open");
    if (this.#life.state !== "open") return; // a listener closed the client
    if (this.#life.opened > 1) this.stats.reconnects++;
    const at = this.#o.resume ? (s: string) => since(this.book, s) : undefined;
    for (const req of this.#subs.requests(at)) this.#req.sentSubscribe(this.#send(req), req.symbols);
    for (const req of this.#barSubs.requests()) this.#req.sentSubscribe(this.#send(req), keysOf(req.symbols, [req.bars as string]));
    const opened: ConnectedMessage = { type: "connected", local: true, attempt: this.#life.opened, url: this.url };
    this.#publish(opened);
    this.#events.emit("open", opened);
    if (this.#life.state !== "open") return; // a listener closed the client
    const periods = [
      this.#o.pingIntervalMs,
      this.#o.idleTimeoutMs,
      this.#o.requestTimeoutMs,
      this.#heartbeatMs * this.#o.silenceFactor,
    ].filter((p) => p > 0);
    if (periods.length) this.#tick = setInterval(() => this.#check(), Math.max(50, Math.min(...periods) / 4));
  }

  #check(): void {
    const now = this.#o.now();
    if (this.#o.requestTimeoutMs > 0) this.#req.expire(now, this.#o.requestTimeoutMs);
    const ws = this.#ws;
    const action = this.#keepalive.due(now);
    if (action === "ping" && this.#isOpen()) this.#send({ op: "ping" });
    else if (action === "dead" && ws) {
      const quiet = Math.round(this.#keepalive.quietFor(now));
      this.#drop(ws, 4000, "no data");
      this.#lost(4000, `nothing received${this.#keepalive.silenceMs ? " (not even a heartbeat)" : ""} for ${quiet} ms`, true);
    }
  }

  #send(req: Request): number {
    const id = this.#req.nextId(this.#o.now());
    try {
      this.#ws?.send(JSON.stringify({ ...req, id }));
    } catch {
      /* the socket is closing: its close event follows, and the resubscription covers it */
    }
    return id;
  }

  /** A subscribe asked by the user: no `since`, it wants a fresh snapshot (resume is for reconnects). */
  #sendSubscribe(symbols: string[], throttleMs: number): void {
    this.#req.sentSubscribe(this.#send(request(symbols, throttleMs)), symbols);
  }

  /** Stop listening to a socket and close it. */
  #drop(ws: WebSocketLike, code?: number, reason?: string): void {
    if (this.#ws === ws) this.#ws = null;
    try {
      ws.close(code, reason);
    } catch {
      /* already closed */
    }
  }

  /** A connection (or an attempt) ended: retry after a delay, or give up. */
  #lost(code: number | null, reason: string, wasOpen: boolean): void {
    this.#ws = null;
    clearTimeout(this.#timer);
    clearInterval(this.#tick);
    if (this.#life.state === "closed") return;
    const fatal = verdict({
      code,
      reason,
      opened: wasOpen,
      authRefused: this.#authRefused,
      errorText: this.#errorText,
      renewableToken: typeof this.#token === "function",
    });
    this.#req.disconnected();
    this.#markStale();
    if (fatal || !this.#o.reconnect) {
      this.#finish(code, reason || this.#errorText, fatal ?? undefined);
      return;
    }
    if (wasOpen && this.#o.now() - this.#openedAt >= this.#o.healthyAfterMs) this.#delays = this.#o.backoff();
    const delay = Math.max(0, this.#delays.next().value ?? 0);
    this.#to("waiting", `connection lost (${code})`);
    const msg: DisconnectedMessage = {
      type: "disconnected", local: true, code, reason: reason || this.#errorText, retryInMs: Math.round(delay),
    }; // prettier-ignore
    this.#publish(msg);
    this.#events.emit("close", msg);
    if (this.#life.state === "waiting") this.#timer = setTimeout(() => void this.#connect(), delay);
  }

  /** The client is closed for good (by the user, or because retrying cannot help). */
  #finish(code: number | null, reason: string, error?: TickerError): void {
    this.#ws = null;
    clearTimeout(this.#timer);
    clearInterval(this.#tick);
    const byUser = code === 1000 && !error;
    this.#to("closed", error ? error.message : reason);
    this.#markStale();
    this.#req.close((id) =>
      error ?? (byUser ? this.#closedError() : new TickerError("disconnected", `connection ended: ${reason}`, { id })),
    );
    const msg: DisconnectedMessage = { type: "disconnected", local: true, code, reason, retryInMs: null };
    if (error) msg.error = error;
    this.#publish(msg);
    this.#events.emit("close", msg);
    // After an auth_failed error the server already said why; the close only confirms it.
    if (error && !this.#authRefused) this.#events.emit("error", error);
    for (const q of this.#queues) q.end();
    this.#queues.clear();
  }

  #closedError(): TickerError {
    return new TickerError("closed", "the client is closed");
  }

  #markStale(): void {
    const now = this.#o.now();
    for (const change of this.book.markStale()) this.#changed(change, now);
  }

  // ---------------------------------------------------------------- frames

  #frame(data: unknown): void {
    const now = this.#o.now();
    this.#keepalive.received(now);
    let raws: RawMessage[];
    try {
      raws = unpack(data);
    } catch {
      this.stats.malformed++; // not JSON: the server's bug, nothing to apply
      return;
    }
    for (const raw of raws) {
      this.#events.emit("raw", raw);
      const m = decode(raw);
      if (m === null) this.stats.ignored++;
      else if (m === undefined) this.stats.malformed++;
      else this.#handle(m, now);
      if (this.#life.state === "closed") return; // a listener closed the client
    }
  }

  #handle(m: ServerMessage, now: number): void {
    switch (m.type) {
      case "snapshot":
      case "update":
      case "status":
      case "day": {
        // A snapshot for a symbol given up meanwhile must not bring it back.
        const change = m.type === "snapshot" && !this.#subs.has(m.symbol) ? null : this.book.apply(m);
        this.#publish(m);
        if (change) this.#changed(change, now);
        if (change && m.type === "day") this.#events.emit("day", change.quote, m);
        return;
      }
      case "bars": {
        const bars = this.#barSubs.has(m.symbol, m.interval) ? this.bars.replace(m) : null;
        this.#publish(m);
        if (bars) this.#events.emit("bars", { symbol: m.symbol, interval: m.interval, bars });
        return;
      }
      case "bar": {
        const change = this.bars.apply(m);
        this.#publish(m);
        if (change) this.#events.emit("bar", change.bar, change);
        return;
      }
      case "heartbeat":
        // The reply to our op: the server agreed, so silence now means a dead connection.
        // Not passed on: receiving it was the point.
        if (m.id === this.#heartbeatId) {
          this.#keepalive.heartbeats((m.interval_ms ?? this.#heartbeatMs) * this.#o.silenceFactor);
        }
        return;
      case "unsubscribed": {
        // Unsolicited (a refreshed token grants less): the server dropped them, so do we.
        if (!this.#req.receive(m)) {
          if (m.bars) this.#dropSeries(keysOf(m.symbols, m.bars));
          else this.book.forget(this.#subs.remove(m.symbols));
        }
        this.#publish(m);
        return;
      }
      case "subscribed": {
        const interval = this.#barInterval(m.id);
        if (interval === undefined) this.#resumed(m);
        this.#req.receive(interval === undefined ? m : { ...m, symbols: keysOf(m.symbols, [interval]) });
        this.#publish(m);
        return;
      }
      case "authenticated":
        this.#authRefused = false;
        this.#req.receive(m);
        this.#publish(m);
        this.#events.emit("authenticated", m);
        return;
      case "warning":
        this.#publish(m);
        this.#events.emit("warning", m);
        if (m.code === "token_expiring") this.#renewToken();
        return;
      case "error":
        this.#error(m);
        return;
      case "pong":
        this.#req.receive(m);
        this.#publish(m);
        return;
      default:
        // A type in the decoder's table without a case here: the compiler says so.
        return assertNever(m);
    }
  }

  #error(m: ErrorMessage): void {
    if (m.id === this.#authId && m.code === "auth_failed") this.#authRefused = true;
    // Heartbeats refused (a server without them: unknown_op, or any other refusal): ping instead.
    const heartbeat = m.id === this.#heartbeatId;
    if (heartbeat) this.#keepalive.heartbeats(0);
    // An error to a bar subscribe names symbols; its promise tracks series.
    const interval = this.#barInterval(m.id);
    const keyed = interval === undefined || !m.symbols ? m : { ...m, symbols: keysOf(m.symbols, [interval]) };
    const held = (k: string): boolean => {
      const series = splitKey(k);
      return series ? this.bars.has(...series) : this.book.has(k);
    };
    // Refused for good: not wanted any more, so a reconnect does not ask again. An unknown
    // (or not entitled) symbol is that for quotes and bars alike. A request refused as a
    // whole leaves alone what it held before (it has data). A full list (LISTED_MAX) names
    // only some: the rest of its request, without data, is refused too.
    const perSymbol = PER_SYMBOL.has(m.code);
    const whole = !perSymbol && ["too_many_symbols", "bad_request", "unknown_interval"].includes(m.code);
    const unheld = whole || (perSymbol && (m.symbols?.length ?? 0) >= LISTED_MAX);
    const refused = [
      ...(perSymbol ? (m.symbols ?? []) : []),
      ...(unheld ? symbolsOfKeys(this.#req.symbolsOf(m.id).filter((k) => !held(k))) : []),
    ];
    const answered = this.#req.receive(keyed);
    if (perSymbol || interval === undefined) this.book.forget(this.#subs.remove(refused));
    this.#dropSeries(perSymbol ? this.#barSubs.ofSymbols(refused) : interval === undefined ? [] : keysOf(refused, [interval]));
    this.#publish(m);
    if (!answered && !heartbeat) this.#events.emit("error", TickerError.from(m));
  }

  /** The interval of bar subscribe `id` (undefined: not one). */
  #barInterval(id: unknown): string | undefined {
    const first = this.#req.symbolsOf(id)[0];
    return first === undefined ? undefined : splitKey(first)?.[1];
  }

  /** Series given up (refused, ended by the server or the user): not wanted, not kept. The ones that were wanted. */
  #dropSeries(keys: string[]): string[] {
    for (const k of keys) this.bars.forget(...(splitKey(k) as [string, string]));
    return this.#barSubs.remove(keys);
  }

  /** A quote subscribe's ack: how each symbol with a `since` came back. */
  #resumed(m: Extract<ServerMessage, { type: "subscribed" }>): void {
    const results = outcomes(m);
    for (const s of m.symbols) {
      const r = results.get(s);
      if (r) this.#recovery.set(s, r);
      else this.#recovery.delete(s);
    }
    if (results.size) this.#events.emit("resume", results);
  }

  #renewToken(): void {
    const provider = this.#token;
    if (typeof provider !== "function") return;
    Promise.resolve()
      .then(provider)
      .then((token) => (this.#isOpen() ? this.auth(token) : null))
      .catch((err: unknown) => {
        const error = err instanceof TickerError ? err : new AuthError("auth_failed", `token renewal failed: ${String(err)}`);
        this.#events.emit("error", error);
      });
  }

  #changed(change: Change, receivedAt: number): void {
    const { quote, previous, gap } = change;
    if (this.#events.has("quote")) {
      const latencyMs = change.message?.type === "update" ? receivedAt - quote.ts / 1000 : null;
      this.#events.emit("quote", quote, { ...change, receivedAt, latencyMs });
    }
    if (gap > 0 && previous) this.#events.emit("gap", { symbol: quote.symbol, from: previous.seq, to: quote.seq, missed: gap });
    if (previous?.status !== quote.status) {
      const { symbol, status, nextOpen, nextClose } = quote;
      this.#events.emit("status", { symbol, status, previous: previous?.status, nextOpen, nextClose });
    }
  }

  #publish(m: Message): void {
    if (m.type !== "connected" && m.type !== "disconnected" && m.type !== "overflow") this.#events.emit("message", m);
    for (const q of this.#queues) q.push(m);
  }
}

/** Open a client: `const c = connect("wss://host/ws", { token })`. It connects at once and keeps reconnecting until `close()`. */
export function connect(url: string, options?: ConnectOptions): Client {
  return new Client(url, options);
}
