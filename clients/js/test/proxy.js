// A TCP proxy on loopback between the client and a real ticker server, so a test can
// do to the connection what networks do: cut it (both sides see the TCP connection end
// with no close frame), refuse new ones for a while, or go silent (the server's bytes
// stop reaching the client while both sockets stay open: a half-dead NAT mapping).
import { createServer, connect } from "node:net";

export async function startProxy(target) {
  const pairs = new Set();
  let refusing = false;
  const server = createServer((client) => {
    if (refusing) {
      client.destroy();
      return;
    }
    const upstream = connect(target.port, "127.0.0.1");
    const pair = { client, upstream, silent: false };
    pairs.add(pair);
    const end = () => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on("data", (d) => upstream.write(d));
    upstream.on("data", (d) => pair.silent || client.write(d));
    for (const s of [client, upstream]) {
      s.on("error", end);
      s.on("close", end);
    }
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address();
  return {
    url: target.url.replace(`:${target.port}/`, `:${port}/`),
    get connections() {
      return pairs.size;
    },
    /** Destroy every proxied connection, on both sides. */
    cut() {
      for (const p of [...pairs]) {
        p.client.destroy();
        p.upstream.destroy();
      }
    },
    /** Refuse new connections (accepted, then closed at once) until called with false. */
    refuse(on = true) {
      refusing = on;
    },
    /** Stop (or restart) forwarding the server's bytes on the connections open now (new ones flow). */
    silence(on = true) {
      for (const p of pairs) p.silent = on;
    },
    async close() {
      this.cut();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
