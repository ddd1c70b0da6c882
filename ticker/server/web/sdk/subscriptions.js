/**
 * What the user wants subscribed, with its throttle: what the client asks for
 * again after every reconnect. Pure. Quotes ({@link Subscriptions}) and bar
 * series ({@link BarSubscriptions}) are separate wishes, as they are separate
 * subscriptions on the server.
 *
 * Symbols the server refused for good (unknown, not entitled, or a subscribe
 * rejected as a whole) are removed by the client, so a reconnect does not ask
 * for them again.
 */
import { seriesKey, splitKey } from "./bars.js";
export class Subscriptions {
    #wanted = new Map();
    /** Add or re-throttle symbols; the distinct ones, in order. */
    add(symbols, throttleMs) {
        const added = [...new Set(symbols)];
        for (const s of added) {
            this.#wanted.delete(s); // re-adding moves it last, as the server orders them
            this.#wanted.set(s, throttleMs);
        }
        return added;
    }
    /** Remove symbols; the ones that were wanted. */
    remove(symbols) {
        return [...new Set(symbols)].filter((s) => this.#wanted.delete(s));
    }
    has(symbol) {
        return this.#wanted.has(symbol);
    }
    throttleOf(symbol) {
        return this.#wanted.get(symbol);
    }
    get symbols() {
        return [...this.#wanted.keys()];
    }
    /**
     * Requests that restore everything: one per distinct throttle. `since` gives
     * where to resume a symbol (its last seq and epoch), for servers that resume;
     * symbols without one get a fresh snapshot.
     */
    requests(since = () => undefined) {
        const groups = new Map();
        for (const [s, throttle] of this.#wanted) {
            const group = groups.get(throttle);
            if (group)
                group.push(s);
            else
                groups.set(throttle, [s]);
        }
        return [...groups].map(([throttle, symbols]) => request(symbols, throttle, since));
    }
}
export function request(symbols, throttleMs, since = () => undefined) {
    const req = { op: "subscribe", symbols };
    if (throttleMs)
        req.throttle_ms = throttleMs;
    const resume = {};
    let any = false;
    for (const s of symbols) {
        const at = since(s);
        if (at) {
            resume[s] = at;
            any = true;
        }
    }
    if (any)
        req.since = resume;
    return req;
}
/**
 * The bar series wanted (symbol × interval), each with its `history` and
 * throttle. After a reconnect each is asked again with the same `history`, so
 * its fresh snapshot brings back the picture a chart had; one request per
 * interval, history and throttle.
 */
export class BarSubscriptions {
    #wanted = new Map();
    /** Add (or re-ask) series; their keys ({@link seriesKey}), in order. */
    add(symbols, intervals, history, throttleMs) {
        const keys = keysOf(symbols, intervals);
        for (const k of keys) {
            this.#wanted.delete(k);
            this.#wanted.set(k, { history, throttleMs });
        }
        return keys;
    }
    /** Remove series by key; the keys that were wanted. */
    remove(keys) {
        return [...new Set(keys)].filter((k) => this.#wanted.delete(k));
    }
    /** Every wanted series of these symbols (any interval): for an unasked `unsubscribed`. */
    ofSymbols(symbols) {
        const set = new Set(symbols);
        return [...this.#wanted.keys()].filter((k) => set.has(splitKey(k)[0]));
    }
    has(symbol, interval) {
        return this.#wanted.has(seriesKey(symbol, interval));
    }
    /** `[symbol, interval]` of every wanted series. */
    get series() {
        return [...this.#wanted.keys()].map((k) => splitKey(k));
    }
    /** Requests that restore every series: one per interval, history and throttle. */
    requests() {
        const groups = new Map();
        for (const [key, { history, throttleMs }] of this.#wanted) {
            const [symbol, interval] = splitKey(key);
            const group = `${interval} ${history} ${throttleMs}`;
            const req = groups.get(group);
            if (req)
                req.symbols.push(symbol);
            else
                groups.set(group, barRequest([symbol], interval, history, throttleMs));
        }
        return [...groups.values()];
    }
}
/** The keys of symbols × intervals, distinct, in order. */
export function keysOf(symbols, intervals) {
    const ivs = [...intervals];
    return [...new Set([...symbols].flatMap((s) => ivs.map((i) => seriesKey(s, i))))];
}
export function barRequest(symbols, interval, history, throttleMs) {
    const req = { op: "subscribe", symbols, bars: interval };
    if (history)
        req.history = history;
    if (throttleMs)
        req.throttle_ms = throttleMs;
    return req;
}
