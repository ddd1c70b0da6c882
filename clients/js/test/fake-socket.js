// A scripted stand-in for a WebSocket (the browser interface the client uses),
// so the client's shell is tested without a network: the test plays the server.

export class FakeSocket {
  static instances = [];

  constructor(url) {
    this.url = url;
    this.readyState = 0;
    this.sent = [];
    this.closedWith = null;
    this.listeners = { open: [], message: [], error: [], close: [] };
    FakeSocket.instances.push(this);
  }

  static reset() {
    FakeSocket.instances = [];
  }

  static get last() {
    return FakeSocket.instances.at(-1);
  }

  addEventListener(type, fn) {
    this.listeners[type].push(fn);
  }

  send(text) {
    if (this.readyState !== 1) throw new Error("not open");
    this.sent.push(JSON.parse(text));
  }

  close(code = 1000, reason = "") {
    if (this.readyState === 3) return;
    this.closedWith = { code, reason };
    this.readyState = 3;
    queueMicrotask(() => this.fire("close", { code, reason }));
  }

  fire(type, event = {}) {
    for (const fn of this.listeners[type]) fn(event);
  }

  // ------------------------------------------------------- the server's side

  open() {
    this.readyState = 1;
    this.fire("open");
  }

  /** One frame: a message, an array of messages, or raw text. */
  receive(frame) {
    this.fire("message", { data: typeof frame === "string" ? frame : JSON.stringify(frame) });
  }

  serverClose(code, reason = "") {
    this.readyState = 3;
    this.fire("close", { code, reason });
  }

  refuse(errorText) {
    this.readyState = 3;
    this.fire("error", { message: errorText });
    this.fire("close", { code: 1006, reason: "" });
  }

  /** Requests sent with this op. */
  ops(op) {
    return this.sent.filter((m) => m.op === op);
  }
}

export const tick = () => new Promise((r) => setImmediate(r));

/** Wait (bounded) until `pred()` holds. */
export async function until(pred, ms = 2000) {
  const deadline = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 5));
  }
}
