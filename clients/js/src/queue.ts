/**
 * The buffer behind `for await (const m of client)`: bounded, because a
 * WebSocket in a browser cannot push back on the server. When the consumer
 * falls `capacity` messages behind, the oldest are dropped and the next
 * message it takes is a local `overflow` message saying how many. (The book
 * and the events are never behind: they are updated on arrival.)
 */

export interface OverflowMessage {
  type: "overflow";
  local: true;
  /** messages dropped from this iterator since it last read */
  dropped: number;
}

export class MessageQueue<T> implements AsyncIterableIterator<T | OverflowMessage> {
  #items: (T | OverflowMessage)[] = [];
  #head = 0;
  #dropped = 0;
  #waiting: ((r: IteratorResult<T | OverflowMessage>) => void) | null = null;
  #done = false;

  constructor(
    readonly capacity: number,
    private readonly onReturn: () => void = () => {},
  ) {}

  push(item: T): void {
    if (this.#done) return;
    if (this.#waiting) {
      const wake = this.#waiting;
      this.#waiting = null;
      wake({ value: item, done: false });
      return;
    }
    if (this.#items.length - this.#head >= this.capacity) {
      this.#head++;
      this.#dropped++;
    }
    this.#items.push(item);
    if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head); // compact now and then, not per message
      this.#head = 0;
    }
  }

  /** No more items: the consumer drains what is buffered, then its loop ends. */
  end(): void {
    this.#done = true;
    this.#waiting?.({ value: undefined, done: true });
    this.#waiting = null;
  }

  next(): Promise<IteratorResult<T | OverflowMessage>> {
    if (this.#dropped) {
      const value: OverflowMessage = { type: "overflow", local: true, dropped: this.#dropped };
      this.#dropped = 0;
      return Promise.resolve({ value, done: false });
    }
    if (this.#head < this.#items.length) {
      const value = this.#items[this.#head++] as T;
      return Promise.resolve({ value, done: false });
    }
    if (this.#done) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve) => (this.#waiting = resolve));
  }

  /** `break` out of the loop: stop buffering for it. */
  return(): Promise<IteratorResult<T | OverflowMessage>> {
    this.#items = [];
    this.#head = 0;
    this.end();
    this.onReturn();
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}
