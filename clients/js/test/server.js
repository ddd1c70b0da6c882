// A real ticker server for the integration tests: `ticker serve` from the
// worktree's venv, on a loopback port, with a fast synthetic feed.
import { spawn } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const TICKER = process.env.TICKER_BIN || fileURLToPath(new URL("../../../.venv/bin/ticker", import.meta.url));

/**
 * Start `ticker serve`; resolves once it listens. `port` 0 lets the server
 * pick a free one (read back from its "listening on" log line); give the
 * port of a stopped server to restart on it. `toml` is appended to the config.
 */
export async function startServer({ port = 0, toml = "", timeoutMs = 30_000 } = {}) {
  const dir = mkdtempSync(join(tmpdir(), "ticker-js-"));
  const config = join(dir, "ticker.toml");
  writeFileSync(
    config,
    `[server]\nhost = "127.0.0.1"\nport = ${port}\nheartbeat_s = 0\nshutdown_timeout_s = 2.0\n` +
      `[[feeds]]\ntype = "synthetic"\nrate = 400.0\nseed = 7\n${toml}`,
  );
  const proc = spawn(TICKER, ["serve", "--config", config], { stdio: ["ignore", "pipe", "pipe"] });
  let log = "";
  const exited = new Promise((resolve) => proc.once("exit", (code, signal) => resolve(code ?? signal)));
  const listening = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`ticker serve did not listen within ${timeoutMs} ms:\n${log}`)), timeoutMs);
    const onData = (chunk) => {
      log += chunk;
      const m = /listening on http:\/\/127\.0\.0\.1:(\d+)(\/\S*)/.exec(log);
      if (m) {
        clearTimeout(timer);
        resolve({ port: Number(m[1]), path: m[2] });
      }
    };
    proc.stdout.on("data", onData);
    proc.stderr.on("data", onData);
    exited.then((code) => reject(new Error(`ticker serve exited (${code}):\n${log}`)));
  });
  const base = `http://127.0.0.1:${listening.port}`;
  return {
    port: listening.port,
    base,
    url: `ws://127.0.0.1:${listening.port}${listening.path}`,
    get log() {
      return log;
    },
    /** SIGTERM, as an operator stops it: clients get close 1001. */
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill("SIGTERM");
      return exited;
    },
  };
}

/** Resolve when `emitter.on(type)` fires with a value satisfying `pred`, bounded in time. */
export function next(client, type, pred = () => true, ms = 10_000) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`no ${type} event within ${ms} ms`));
    }, ms);
    const off = client.on(type, (...args) => {
      if (!pred(...args)) return;
      clearTimeout(timer);
      off();
      resolve(args.length > 1 ? args : args[0]);
    });
  });
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
