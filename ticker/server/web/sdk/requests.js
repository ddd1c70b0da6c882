/**
 * Requests waiting for their replies: the promises behind `subscribe`,
 * `unsubscribe`, `ping` and `auth`. Pure bookkeeping: the shell passes server
 * messages and the time in, promises settle.
 *
 * A subscribe is tracked by symbol, because its promise may outlive a
 * connection: asked while offline, or cut off by a reconnect, it is sent (again)
 * as part of the resubscription, and resolves on the ack of whichever request
 * carried its symbols. The server answers a subscribe with `subscribed` (the
 * symbols it took), then `unknown_symbol` / `not_entitled` errors naming the
 * others, with the same id; or with one error when it took nothing. So a
 * subscribe is settled once every symbol is either acked or named in an error:
 * it resolves when all were taken, else rejects with an error listing both the
 * refused symbols and the ones subscribed. An error names at most 20 symbols
 * (its message says how many more): since the ack came first and named every
 * symbol taken, a full list settles the rest of its request as refused too.
 *
 * The names are opaque: the client tracks bar series by key
 * (symbol × interval, `seriesKey`) in the same way, on the same id counter.
 */
import { TickerError } from "./errors.js";
/** Codes that refuse some symbols of a request, the others being subscribed. */
export const PER_SYMBOL = new Set(["unknown_symbol", "not_entitled"]);
/** The most symbols an error names (docs/protocol.md, "error"). */
export const LISTED_MAX = 20;
export class Requests {
    #lastId = 0;
    #subscribes = new Set();
    #replies = new Map();
    /** id -> when it was sent, for timeouts */
    #sentAt = new Map();
    /** subscribe id -> its symbols, while a reply may still come */
    #symbols = new Map();
    nextId(now) {
        const id = ++this.#lastId;
        this.#sentAt.set(id, now);
        return id;
    }
    /** A promise for a subscribe of `symbols`, settled as their acks and errors come in. */
    subscribe(symbols) {
        return new Promise((resolve, reject) => {
            const w = { resolve, reject, outstanding: new Set(symbols), ok: [], errors: [], ids: new Set() };
            this.#subscribes.add(w);
            this.#settle(w); // nothing to wait for
        });
    }
    /** A subscribe request `id` carrying `symbols` went out. */
    sentSubscribe(id, symbols) {
        this.#symbols.set(id, symbols);
        for (const w of this.#subscribes)
            if (symbols.some((s) => w.outstanding.has(s)))
                w.ids.add(id);
    }
    /** A promise for the reply of type `type` to request `id`. */
    expect(id, type) {
        return new Promise((resolve, reject) => {
            this.#replies.set(id, { type, resolve: resolve, reject });
        });
    }
    /** The symbols of subscribe request `id` (empty for other ids, or once it timed out). */
    symbolsOf(id) {
        return (typeof id === "number" && this.#symbols.get(id)) || [];
    }
    /** Symbols given up before they were subscribed: nobody waits for them any more. */
    cancel(symbols) {
        for (const w of this.#subscribes) {
            for (const s of symbols)
                w.outstanding.delete(s);
            this.#settle(w);
        }
    }
    /** Feed every server message. Returns true when a caller received it (an error answered). */
    receive(m) {
        const id = m.id;
        if (typeof id !== "number")
            return false;
        let answered = false;
        const reply = this.#replies.get(id);
        if (reply && (m.type === reply.type || m.type === "error")) {
            this.#replies.delete(id);
            this.#sentAt.delete(id);
            if (m.type === "error")
                reply.reject(TickerError.from(m));
            else
                reply.resolve(m);
            answered = true;
        }
        if (m.type !== "subscribed" && m.type !== "error")
            return answered;
        for (const w of this.#subscribes) {
            if (!w.ids.has(id))
                continue;
            answered = true;
            if (m.type === "subscribed") {
                for (const s of m.symbols)
                    if (w.outstanding.delete(s))
                        w.ok.push(s);
            }
            else if (PER_SYMBOL.has(m.code)) {
                const listed = m.symbols ?? [];
                const named = listed.filter((s) => w.outstanding.delete(s));
                if (listed.length >= LISTED_MAX)
                    for (const s of this.symbolsOf(id))
                        if (w.outstanding.delete(s))
                            named.push(s);
                if (named.length)
                    w.errors.push({ ...m, symbols: named });
            }
            else {
                w.errors.push(m);
                w.outstanding.clear();
            }
            this.#settle(w);
        }
        return answered;
    }
    /** Reject whatever waits for requests sent `timeoutMs` or longer before `now`. */
    expire(now, timeoutMs) {
        for (const [id, at] of this.#sentAt) {
            if (now - at < timeoutMs)
                continue;
            this.#sentAt.delete(id); // answered subscribes leave their ids here: dropped now, unnoticed
            this.#symbols.delete(id);
            const err = () => new TickerError("timeout", `no reply to request ${id} within ${timeoutMs} ms`, { id });
            this.#replies.get(id)?.reject(err());
            this.#replies.delete(id);
            for (const w of this.#subscribes) {
                if (!w.ids.has(id))
                    continue;
                this.#subscribes.delete(w);
                const e = err();
                w.reject(new TickerError(e.code, e.message, { id, symbols: [...w.outstanding], subscribed: w.ok }));
            }
        }
    }
    /**
     * The connection dropped. Subscribes wait for the resubscription; an
     * unsubscribe is done (a new connection does not have the symbols); a ping or
     * auth cannot be answered any more.
     */
    disconnected() {
        this.#sentAt.clear();
        this.#symbols.clear();
        for (const w of this.#subscribes)
            w.ids.clear();
        for (const [id, r] of this.#replies) {
            if (r.type === "unsubscribed")
                r.resolve({ type: "unsubscribed", id, symbols: [] });
            else
                r.reject(new TickerError("disconnected", "the connection dropped before the reply", { id }));
        }
        this.#replies.clear();
    }
    /** The client closed: everything still waiting fails with `error`. */
    close(error) {
        for (const w of this.#subscribes)
            w.reject(error());
        for (const [id, r] of this.#replies)
            r.reject(error(id));
        this.#subscribes.clear();
        this.#replies.clear();
        this.#sentAt.clear();
        this.#symbols.clear();
    }
    #settle(w) {
        if (w.outstanding.size)
            return;
        this.#subscribes.delete(w);
        const [first] = w.errors;
        if (!first) {
            w.resolve({ symbols: w.ok });
            return;
        }
        const symbols = w.errors.flatMap((e) => e.symbols ?? []);
        const message = w.errors.map((e) => e.message).join("; ");
        w.reject(TickerError.from({ ...first, message, symbols }, w.ok));
    }
}
