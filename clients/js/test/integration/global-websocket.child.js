// Run by global-websocket.test.js in a Node with a global WebSocket; prints what it saw.
import { connect } from "../../dist/index.js";

const c = connect(process.argv[2]); // no WebSocket option: the global one
const types = [];
const seqs = [];
c.on("message", (m) => {
  types.push(m.type);
  if (m.symbol === "EURUSD" && m.seq !== undefined) seqs.push(m.seq);
});
const { symbols } = await c.subscribe("EURUSD");
const deadline = Date.now() + 15_000;
while (seqs.length < 4 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
await c.close();
console.log(JSON.stringify({ acked: symbols, types, seqs }));
