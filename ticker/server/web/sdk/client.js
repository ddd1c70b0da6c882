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
import { QuoteBook } from "./book.js";
import { BarStore, splitKey } from "./bars.js";
import { backoff } from "./backoff.js";
import { Emitter } from "./emitter.js";
import { AuthError, TickerError } from "./errors.js";
import { unpack } from "./frames.js";
import { Keepalive } from "./keepalive.js";
import { Lifecycle, verdict } from "./lifecycle.js";
import { decode, } from "./messages.js";
import { MessageQueue } from "./queue.js";
import { LISTED_MAX, PER_SYMBOL, Requests } from "./requests.js";
import { outcomes, since } from "./resume.js";
import { BarSubscriptions, Subscriptions, barRequest, keysOf, request } from "./subscriptions.js";
const OPEN = 1;
const CLOSED = 3;
function assertNever(m) {
    throw new Error(`no handler for message type ${m.type}`);
}
function defaultClock() {
    const p = globalThis.performance;
    return p ? p.timeOrigin + p.now() : Date.now();
}
const list = (v) => [...new Set(typeof v === "string" ? [v] : v)];
const symbolsOfKeys = (keys) => [...new Set(keys.map((k) => splitKey(k)?.[0] ?? k))];
/** 0 (never) to 60000 ms, whole: what the server takes for `throttle_ms`. */
function badThrottle(throttleMs) {
    return Number.isInteger(throttleMs) && throttleMs >= 0 && throttleMs <= 60_000
        ? null
        : new RangeError(`throttleMs must be an integer from 0 to 60000, not ${throttleMs}`);
}
function withToken(url, token) {
    const u = new URL(url);
    u.searchParams.set("token", token);
    return u.href;
}
export class Client {
    url;
    /** latest quote per subscribed symbol */
    book = new QuoteBook();
    /** bars per subscribed series (`subscribeBars`) */
    bars;
    /** connections after the first; messages not understood (malformed) or of unknown types (ignored) */
    stats = { reconnects: 0, malformed: 0, ignored: 0 };
    #WS;
    #o;
    #token;
    #life = new Lifecycle();
    #subs = new Subscriptions();
    #barSubs = new BarSubscriptions();
    #recovery = new Map();
    #req = new Requests();
    #events = new Emitter();
    #queues = new Set();
    #keepalive;
    #delays;
    #ws = null;
    #opened = false;
    #openedAt = 0;
    #timer;
    #tick;
    #authId = 0;
    #authRefused = false;
    #heartbeatId = 0;
    #heartbeatMs;
    #errorText = "";
    #done;
    constructor(url, options = {}) {
        const WS = options.WebSocket ?? globalThis.WebSocket;
        if (!WS) {
            throw new TypeError("no WebSocket in this runtime: pass one, e.g. connect(url, { WebSocket }) with WebSocket from the ws package (Node < 22)");
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
    get state() {
        return this.#life.state;
    }
    /** The symbols wanted: subscribed, or to be subscribed on the next connect. */
    get symbols() {
        return this.#subs.symbols;
    }
    /** The bar series wanted, as `[symbol, interval]`. */
    get barSeries() {
        return this.#barSubs.series;
    }
    /** How each symbol came back on the last reconnect that resumed it (see the `resume` event). */
    get recovery() {
        return this.#recovery;
    }
    on(type, listener) {
        return this.#events.on(type, listener);
    }
    once(type, listener) {
        return this.#events.once(type, listener);
    }
    off(type, listener) {
        this.#events.off(type, listener);
    }
    /** Every message from now on, until the client closes (each loop has its own bounded buffer). */
    [Symbol.asyncIterator]() {
        const queue = new MessageQueue(this.#o.bufferSize, () => this.#queues.delete(queue));
        if (this.#life.state === "closed")
            queue.end();
        else
            this.#queues.add(queue);
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
    subscribe(symbols, options = {}) {
        if (this.#life.state === "closed")
            return Promise.reject(this.#closedError());
        const throttleMs = options.throttleMs ?? 0;
        // Checked here, not only by the server: a wish it refuses would be re-sent on every reconnect.
        const bad = badThrottle(throttleMs);
        if (bad)
            return Promise.reject(bad);
        const added = this.#subs.add(list(symbols), throttleMs);
        const result = this.#req.subscribe(added);
        if (added.length && this.#isOpen())
            this.#sendSubscribe(added, throttleMs);
        return result;
    }
    /** Unsubscribe; resolves once the server confirmed (at once while disconnected). */
    async unsubscribe(symbols) {
        const removed = this.#subs.remove(list(symbols));
        this.book.forget(removed); // late updates for them are dropped from now on
        this.#req.cancel(removed);
        if (!removed.length || !this.#isOpen())
            return { symbols: removed };
        const id = this.#send({ op: "unsubscribe", symbols: removed });
        const reply = await this.#req.expect(id, "unsubscribed");
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
    subscribeBars(symbols, intervals, options = {}) {
        if (this.#life.state === "closed")
            return Promise.reject(this.#closedError());
        const { history = 0, throttleMs = 0 } = options;
        const ivs = list(intervals);
        const bad = badThrottle(throttleMs) ??
            (Number.isInteger(history) && history >= 0 ? null : new RangeError(`history must be a whole number >= 0, not ${history}`)) ??
            (ivs.length ? null : new RangeError("no bar interval given"));
        if (bad)
            return Promise.reject(bad);
        const syms = list(symbols);
        const keys = this.#barSubs.add(syms, ivs, history, throttleMs);
        const result = this.#req.subscribe(keys);
        if (keys.length && this.#isOpen()) {
            for (const iv of ivs)
                this.#req.sentSubscribe(this.#send(barRequest(syms, iv, history, throttleMs)), keysOf(syms, [iv]));
        }
        return result.then((r) => ({ symbols: symbolsOfKeys(r.symbols) }), (e) => {
            // The promise tracked series; the caller asked for symbols.
            if (e instanceof TickerError)
                Object.assign(e, { symbols: symbolsOfKeys(e.symbols), subscribed: symbolsOfKeys(e.subscribed) });
            throw e;
        });
    }
    /** Stop following bar series; resolves once the server confirmed (at once while disconnected). */
    async unsubscribeBars(symbols, intervals) {
        const removed = this.#dropSeries(keysOf(list(symbols), list(intervals)));
        this.#req.cancel(removed);
        const pairs = removed.map((k) => splitKey(k));
        const syms = [...new Set(pairs.map((p) => p[0]))];
        if (!removed.length || !this.#isOpen())
            return { symbols: syms };
        await this.#req.expect(this.#send({ op: "unsubscribe", symbols: syms, bars: [...new Set(pairs.map((p) => p[1]))] }), "unsubscribed");
        return { symbols: syms };
    }
    /** Ask fresh snapshots for symbols (all wanted ones by default), e.g. after a gap you care about. */
    async resync(symbols = this.#subs.symbols) {
        const groups = new Map();
        for (const s of symbols) {
            const t = this.#subs.throttleOf(s);
            if (t !== undefined)
                groups.set(t, [...(groups.get(t) ?? []), s]);
        }
        const results = await Promise.all([...groups].map(([t, syms]) => this.subscribe(syms, { throttleMs: t })));
        return { symbols: results.flatMap((r) => r.symbols) };
    }
    /** Round trip to the server, ms. */
    async ping() {
        if (!this.#isOpen())
            throw new TickerError("disconnected", "not connected");
        const start = this.#o.now();
        await this.#req.expect(this.#send({ op: "ping" }), "pong");
        return this.#o.now() - start;
    }
    /**
     * Use a fresh token: sent now when connected (resolves with the server's
     * `authenticated`; null while disconnected), and for later connections
     * unless the token comes from a function, which is asked again each time.
     */
    async auth(token) {
        this.#token = typeof this.#token === "function" ? this.#token : token;
        if (!this.#isOpen())
            return null;
        this.#authId = this.#send({ op: "auth", token });
        return this.#req.expect(this.#authId, "authenticated");
    }
    /** Close for good: pending requests reject with code `closed`, iterators end. Resolves when the socket closed. */
    close() {
        if (this.#life.state !== "closed") {
            const ws = this.#ws;
            this.#finish(1000, "closed by the client");
            if (ws && ws.readyState !== CLOSED) {
                this.#done = new Promise((resolve) => {
                    const safety = setTimeout(resolve, 2000); // a socket that never reports its close
                    ws.addEventListener("close", () => {
                        clearTimeout(safety);
                        resolve();
                    });
                });
                try {
                    ws.close(1000, "client closed");
                }
                catch {
                    /* already closing */
                }
            }
        }
        return this.#done ?? Promise.resolve();
    }
    // ---------------------------------------------------------------- connection
    #isOpen() {
        return this.#life.state === "open" && this.#ws?.readyState === OPEN;
    }
    #to(state, why) {
        this.#life.to(state, why);
        this.#events.emit("state", state);
    }
    async #connect() {
        this.#to("connecting", "connect");
        let token;
        try {
            token = typeof this.#token === "function" ? await this.#token() : this.#token;
        }
        catch (err) {
            this.#events.emit("error", new TickerError("auth_failed", `token provider failed: ${String(err)}`));
            this.#lost(null, "token provider failed", false);
            return;
        }
        if (this.#life.state !== "connecting")
            return; // closed meanwhile
        let ws;
        try {
            ws = new this.#WS(token && this.#o.tokenIn === "query" ? withToken(this.url, token) : this.url);
        }
        catch (err) {
            const error = new TickerError("bad_url", `cannot open ${this.url}: ${String(err)}`);
            this.#finish(null, error.message, error);
            return;
        }
        this.#ws = ws;
        this.#opened = this.#authRefused = false;
        this.#errorText = "";
        this.#timer = setTimeout(() => {
            if (this.#ws !== ws)
                return;
            this.#drop(ws);
            this.#lost(null, `no connection within ${this.#o.connectTimeoutMs} ms`, false);
        }, this.#o.connectTimeoutMs);
        ws.addEventListener("open", () => this.#ws === ws && this.#open(token));
        ws.addEventListener("message", (ev) => this.#ws === ws && this.#frame(ev.data));
        ws.addEventListener("error", (ev) => {
            if (this.#ws === ws)
                this.#errorText = String(ev?.message ?? ev?.error?.message ?? "");
        });
        ws.addEventListener("close", (ev) => {
            if (this.#ws === ws)
                this.#lost(ev.code ?? null, ev.reason ?? "", this.#opened);
        });
    }
    #open(token) {
        clearTimeout(this.#timer);
        const now = this.#o.now();
        this.#opened = true;
        this.#openedAt = now;
        this.#keepalive.reset(now);
        this.book.forget(this.book.symbols().filter((s) => !this.#subs.has(s)));
        // The token first, even before listeners hear of the open: the server serves nothing else before it.
        if (token && this.#o.tokenIn === "message")
            this.#authId = this.#send({ op: "auth", token });
        // Heartbeats may be asked before auth; pings go on until the server agrees.
        if (this.#heartbeatMs)
            this.#heartbeatId = this.#send({ op: "heartbeat", interval_ms: this.#heartbeatMs });
        this.#to("open", "socket open");
        if (this.#life.state !== "open")
            return; // a listener closed the client
        if (this.#life.opened > 1)
            this.stats.reconnects++;
        const at = this.#o.resume ? (s) => since(this.book, s) : undefined;
        for (const req of this.#subs.requests(at))
            this.#req.sentSubscribe(this.#send(req), req.symbols);
        for (const req of this.#barSubs.requests())
            this.#req.sentSubscribe(this.#send(req), keysOf(req.symbols, [req.bars]));
        const opened = { type: "connected", local: true, attempt: this.#life.opened, url: this.url };
        this.#publish(opened);
        this.#events.emit("open", opened);
        if (this.#life.state !== "open")
            return; // a listener closed the client
        const periods = [
            this.#o.pingIntervalMs,
            this.#o.idleTimeoutMs,
            this.#o.requestTimeoutMs,
            this.#heartbeatMs * this.#o.silenceFactor,
        ].filter((p) => p > 0);
        if (periods.length)
            this.#tick = setInterval(() => this.#check(), Math.max(50, Math.min(...periods) / 4));
    }
    #check() {
        const now = this.#o.now();
        if (this.#o.requestTimeoutMs > 0)
            this.#req.expire(now, this.#o.requestTimeoutMs);
        const ws = this.#ws;
        const action = this.#keepalive.due(now);
        if (action === "ping" && this.#isOpen())
            this.#send({ op: "ping" });
        else if (action === "dead" && ws) {
            const quiet = Math.round(this.#keepalive.quietFor(now));
            this.#drop(ws, 4000, "no data");
            this.#lost(4000, `nothing received${this.#keepalive.silenceMs ? " (not even a heartbeat)" : ""} for ${quiet} ms`, true);
        }
    }
    #send(req) {
        const id = this.#req.nextId(this.#o.now());
        try {
            this.#ws?.send(JSON.stringify({ ...req, id }));
        }
        catch {
            /* the socket is closing: its close event follows, and the resubscription covers it */
        }
        return id;
    }
    /** A subscribe asked by the user: no `since`, it wants a fresh snapshot (resume is for reconnects). */
    #sendSubscribe(symbols, throttleMs) {
        this.#req.sentSubscribe(this.#send(request(symbols, throttleMs)), symbols);
    }
    /** Stop listening to a socket and close it. */
    #drop(ws, code, reason) {
        if (this.#ws === ws)
            this.#ws = null;
        try {
            ws.close(code, reason);
        }
        catch {
            /* already closed */
        }
    }
    /** A connection (or an attempt) ended: retry after a delay, or give up. */
    #lost(code, reason, wasOpen) {
        this.#ws = null;
        clearTimeout(this.#timer);
        clearInterval(this.#tick);
        if (this.#life.state === "closed")
            return;
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
        if (wasOpen && this.#o.now() - this.#openedAt >= this.#o.healthyAfterMs)
            this.#delays = this.#o.backoff();
        const delay = Math.max(0, this.#delays.next().value ?? 0);
        this.#to("waiting", `connection lost (${code})`);
        const msg = {
            type: "disconnected", local: true, code, reason: reason || this.#errorText, retryInMs: Math.round(delay),
        }; // prettier-ignore
        this.#publish(msg);
        this.#events.emit("close", msg);
        if (this.#life.state === "waiting")
            this.#timer = setTimeout(() => void this.#connect(), delay);
    }
    /** The client is closed for good (by the user, or because retrying cannot help). */
    #finish(code, reason, error) {
        this.#ws = null;
        clearTimeout(this.#timer);
        clearInterval(this.#tick);
        const byUser = code === 1000 && !error;
        this.#to("closed", error ? error.message : reason);
        this.#markStale();
        this.#req.close((id) => error ?? (byUser ? this.#closedError() : new TickerError("disconnected", `connection ended: ${reason}`, { id })));
        const msg = { type: "disconnected", local: true, code, reason, retryInMs: null };
        if (error)
            msg.error = error;
        this.#publish(msg);
        this.#events.emit("close", msg);
        // After an auth_failed error the server already said why; the close only confirms it.
        if (error && !this.#authRefused)
            this.#events.emit("error", error);
        for (const q of this.#queues)
            q.end();
        this.#queues.clear();
    }
    #closedError() {
        return new TickerError("closed", "the client is closed");
    }
    #markStale() {
        const now = this.#o.now();
        for (const change of this.book.markStale())
            this.#changed(change, now);
    }
    // ---------------------------------------------------------------- frames
    #frame(data) {
        const now = this.#o.now();
        this.#keepalive.received(now);
        let raws;
        try {
            raws = unpack(data);
        }
        catch {
            this.stats.malformed++; // not JSON: the server's bug, nothing to apply
            return;
        }
        for (const raw of raws) {
            this.#events.emit("raw", raw);
            const m = decode(raw);
            if (m === null)
                this.stats.ignored++;
            else if (m === undefined)
                this.stats.malformed++;
            else
                this.#handle(m, now);
            if (this.#life.state === "closed")
                return; // a listener closed the client
        }
    }
    #handle(m, now) {
        switch (m.type) {
            case "snapshot":
            case "update":
            case "status":
            case "day": {
                // A snapshot for a symbol given up meanwhile must not bring it back.
                const change = m.type === "snapshot" && !this.#subs.has(m.symbol) ? null : this.book.apply(m);
                this.#publish(m);
                if (change)
                    this.#changed(change, now);
                if (change && m.type === "day")
                    this.#events.emit("day", change.quote, m);
                return;
            }
            case "bars": {
                const bars = this.#barSubs.has(m.symbol, m.interval) ? this.bars.replace(m) : null;
                this.#publish(m);
                if (bars)
                    this.#events.emit("bars", { symbol: m.symbol, interval: m.interval, bars });
                return;
            }
            case "bar": {
                const change = this.bars.apply(m);
                this.#publish(m);
                if (change)
                    this.#events.emit("bar", change.bar, change);
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
                    if (m.bars)
                        this.#dropSeries(keysOf(m.symbols, m.bars));
                    else
                        this.book.forget(this.#subs.remove(m.symbols));
                }
                this.#publish(m);
                return;
            }
            case "subscribed": {
                const interval = this.#barInterval(m.id);
                if (interval === undefined)
                    this.#resumed(m);
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
                if (m.code === "token_expiring")
                    this.#renewToken();
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
    #error(m) {
        if (m.id === this.#authId && m.code === "auth_failed")
            this.#authRefused = true;
        // Heartbeats refused (a server without them: unknown_op, or any other refusal): ping instead.
        const heartbeat = m.id === this.#heartbeatId;
        if (heartbeat)
            this.#keepalive.heartbeats(0);
        // An error to a bar subscribe names symbols; its promise tracks series.
        const interval = this.#barInterval(m.id);
        const keyed = interval === undefined || !m.symbols ? m : { ...m, symbols: keysOf(m.symbols, [interval]) };
        const held = (k) => {
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
        if (perSymbol || interval === undefined)
            this.book.forget(this.#subs.remove(refused));
        this.#dropSeries(perSymbol ? this.#barSubs.ofSymbols(refused) : interval === undefined ? [] : keysOf(refused, [interval]));
        this.#publish(m);
        if (!answered && !heartbeat)
            this.#events.emit("error", TickerError.from(m));
    }
    /** The interval of bar subscribe `id` (undefined: not one). */
    #barInterval(id) {
        const first = this.#req.symbolsOf(id)[0];
        return first === undefined ? undefined : splitKey(first)?.[1];
    }
    /** Series given up (refused, ended by the server or the user): not wanted, not kept. The ones that were wanted. */
    #dropSeries(keys) {
        for (const k of keys)
            this.bars.forget(...splitKey(k));
        return this.#barSubs.remove(keys);
    }
    /** A quote subscribe's ack: how each symbol with a `since` came back. */
    #resumed(m) {
        const results = outcomes(m);
        for (const s of m.symbols) {
            const r = results.get(s);
            if (r)
                this.#recovery.set(s, r);
            else
                this.#recovery.delete(s);
        }
        if (results.size)
            this.#events.emit("resume", results);
    }
    #renewToken() {
        const provider = this.#token;
        if (typeof provider !== "function")
            return;
        Promise.resolve()
            .then(provider)
            .then((token) => (this.#isOpen() ? this.auth(token) : null))
            .catch((err) => {
            const error = err instanceof TickerError ? err : new AuthError("auth_failed", `token renewal failed: ${String(err)}`);
            this.#events.emit("error", error);
        });
    }
    #changed(change, receivedAt) {
        const { quote, previous, gap } = change;
        if (this.#events.has("quote")) {
            const latencyMs = change.message?.type === "update" ? receivedAt - quote.ts / 1000 : null;
            this.#events.emit("quote", quote, { ...change, receivedAt, latencyMs });
        }
        if (gap > 0 && previous)
            this.#events.emit("gap", { symbol: quote.symbol, from: previous.seq, to: quote.seq, missed: gap });
        if (previous?.status !== quote.status) {
            const { symbol, status, nextOpen, nextClose } = quote;
            this.#events.emit("status", { symbol, status, previous: previous?.status, nextOpen, nextClose });
        }
    }
    #publish(m) {
        if (m.type !== "connected" && m.type !== "disconnected" && m.type !== "overflow")
            this.#events.emit("message", m);
        for (const q of this.#queues)
            q.push(m);
    }
}
/** Open a client: `const c = connect("wss://host/ws", { token })`. It connects at once and keeps reconnecting until `close()`. */
export function connect(url, options) {
    return new Client(url, options);
}
