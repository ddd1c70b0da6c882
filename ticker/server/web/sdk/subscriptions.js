/**
 * What the user wants subscribed, with its throttle: what the client asks for
 * again after every reconnect. Pure.
 *
 * Symbols the server refused for good (unknown, not entitled, or a subscribe
 * rejected as a whole) are removed by the client, so a reconnect does not ask
 * for them again.
 */
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
