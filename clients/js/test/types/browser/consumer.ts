import { connect, mid } from "../../../dist/index.js";

export function board(el: HTMLElement): void {
  const c = connect(new URL("ws", location.href).href.replace(/^http/, "ws"), { WebSocket: window.WebSocket });
  c.subscribe(["EURUSD", "XAUUSD"]).catch((err: Error) => (el.textContent = err.message));
  c.on("quote", (q) => {
    el.textContent = `${q.symbol} ${mid(q) ?? "—"} ${q.status}`;
  });
}
