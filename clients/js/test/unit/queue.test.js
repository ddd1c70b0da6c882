import assert from "node:assert/strict";
import { test } from "node:test";
import { MessageQueue } from "../../dist/queue.js";

test("a consumer waiting for the next message gets it as soon as it is pushed", async () => {
  const q = new MessageQueue(10);
  const next = q.next();
  q.push({ type: "pong" });
  assert.deepEqual(await next, { value: { type: "pong" }, done: false });
});

test("a consumer that falls behind loses the oldest messages and is told how many", async () => {
  const q = new MessageQueue(3);
  for (let i = 1; i <= 5; i++) q.push({ type: "update", seq: i });
  assert.deepEqual((await q.next()).value, { type: "overflow", local: true, dropped: 2 });
  const seqs = [];
  for (let i = 0; i < 3; i++) seqs.push((await q.next()).value.seq);
  assert.deepEqual(seqs, [3, 4, 5]);
});

test("after end() the buffered messages drain, then the loop ends", async () => {
  const q = new MessageQueue(10);
  q.push({ type: "pong" });
  q.end();
  q.push({ type: "late" });
  const got = [];
  for await (const m of q) got.push(m.type);
  assert.deepEqual(got, ["pong"]);
});

test("breaking out of the loop unregisters the queue and ends it", async () => {
  let returned = 0;
  const q = new MessageQueue(10, () => returned++);
  q.push({ type: "a" });
  q.push({ type: "b" });
  for await (const m of q) {
    assert.equal(m.type, "a");
    break;
  }
  assert.equal(returned, 1);
  assert.equal((await q.next()).done, true);
});

test("a long run stays in order across the buffer's compactions", async () => {
  const q = new MessageQueue(2001); // the backlog peaks at 2001
  let expected = 0;
  for (let i = 0; i < 6000; i++) {
    q.push({ seq: i });
    if (i % 3 !== 0) assert.equal((await q.next()).value.seq, expected++); // falls behind by 1 in 3
  }
  q.end();
  const rest = [];
  for await (const m of q) rest.push(m.seq);
  assert.equal(rest.length, 2000); // exactly full: nothing dropped
  assert.deepEqual(rest, Array.from({ length: 2000 }, (_, i) => 4000 + i));
});
