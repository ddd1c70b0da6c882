/** A minimal typed event emitter: `on` returns the function that removes the listener. */
/** Where a throwing listener's error goes: rethrown on its own, so the runtime reports it. */
const rethrow = (err) => queueMicrotask(() => {
    throw err;
});
export class Emitter {
    report;
    #listeners = new Map();
    constructor(report = rethrow) {
        this.report = report;
    }
    on(type, listener) {
        let set = this.#listeners.get(type);
        if (!set)
            this.#listeners.set(type, (set = new Set()));
        set.add(listener);
        return () => this.off(type, listener);
    }
    once(type, listener) {
        const off = this.on(type, ((...args) => {
            off();
            listener(...args);
        }));
        return off;
    }
    off(type, listener) {
        this.#listeners.get(type)?.delete(listener);
    }
    /** Whether anyone listens (the client skips building events nobody wants). */
    has(type) {
        return (this.#listeners.get(type)?.size ?? 0) > 0;
    }
    /**
     * Call every listener. A listener that throws does not stop the others, nor
     * the client: the error is rethrown asynchronously, where the runtime reports
     * it (window.onerror, Node's uncaughtException), as a DOM EventTarget does.
     */
    emit(type, ...args) {
        const set = this.#listeners.get(type);
        if (!set)
            return;
        for (const listener of [...set]) {
            try {
                listener(...args);
            }
            catch (err) {
                this.report(err);
            }
        }
    }
}
