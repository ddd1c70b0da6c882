/** A minimal typed event emitter: `on` returns the function that removes the listener. */

export type Listener<A extends unknown[]> = (...args: A) => void;
// `any`: the map stores every event's listeners
type AnyListener = (...args: any[]) => void;

/** Where a throwing listener's error goes: rethrown on its own, so the runtime reports it. */
const rethrow = (err: unknown): void =>
  queueMicrotask(() => {
    throw err;
  });

export class Emitter<Events extends { [K in keyof Events]: unknown[] }> {
  readonly #listeners = new Map<keyof Events, Set<AnyListener>>();

  constructor(private readonly report: (err: unknown) => void = rethrow) {}

  on<K extends keyof Events>(type: K, listener: Listener<Events[K]>): () => void {
    let set = this.#listeners.get(type);
    if (!set) this.#listeners.set(type, (set = new Set()));
    set.add(listener as AnyListener);
    return () => this.off(type, listener);
  }

  once<K extends keyof Events>(type: K, listener: Listener<Events[K]>): () => void {
    const off = this.on(type, ((...args: Events[K]) => {
      off();
      listener(...args);
    }) as Listener<Events[K]>);
    return off;
  }

  off<K extends keyof Events>(type: K, listener: Listener<Events[K]>): void {
    this.#listeners.get(type)?.delete(listener as AnyListener);
  }

  /** Whether anyone listens (the client skips building events nobody wants). */
  has(type: keyof Events): boolean {
    return (this.#listeners.get(type)?.size ?? 0) > 0;
  }

  /**
   * Call every listener. A listener that throws does not stop the others, nor
   * the client: the error is rethrown asynchronously, where the runtime reports
   * it (window.onerror, Node's uncaughtException), as a DOM EventTarget does.
   */
  emit<K extends keyof Events>(type: K, ...args: Events[K]): void {
    const set = this.#listeners.get(type);
    if (!set) return;
    for (const listener of [...set]) {
      try {
        listener(...args);
      } catch (err) {
        this.report(err);
      }
    }
  }
}
