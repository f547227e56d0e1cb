/** relay/smtp/reply-batch.ts: replies of one event-loop turn leave in one write; 220/221/421 are never held. */
import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { batchReplies } from "../../relay/smtp/reply-batch.ts";

/** A socket stand-in that records each write that reaches it (a corked stream hands them over together). */
function fakeConnection() {
  const writes: string[][] = [];
  const socket = new Writable({
    writev(chunks, cb) {
      writes.push(chunks.map((c) => String(c.chunk)));
      cb();
    },
    write(chunk, _enc, cb) {
      writes.push([String(chunk)]);
      cb();
    },
  });
  const connection = {
    _socket: socket as never,
    send(code: number, data?: string | string[]) {
      socket.write(`${code} ${String(data ?? "")}\r\n`);
    },
  };
  batchReplies(connection);
  return { connection, writes };
}

const turn = () => new Promise((r) => setImmediate(r));

describe("SMTP reply batching", () => {
  it("sends the replies of one turn in one write, after the turn", async () => {
    const { connection, writes } = fakeConnection();
    connection.send(250, "sender ok");
    await Promise.resolve();
    connection.send(250, "recipient ok");
    connection.send(354, "go ahead");
    expect(writes).toEqual([]);
    await turn();
    expect(writes).toEqual([["250 sender ok\r\n", "250 recipient ok\r\n", "354 go ahead\r\n"]]);
    connection.send(250, "queued");
    await turn();
    expect(writes.at(-1)).toEqual(["250 queued\r\n"]);
  });

  it("writes 220, 221 and 421 at once, after anything held, in order", async () => {
    for (const code of [220, 221, 421]) {
      const { connection, writes } = fakeConnection();
      connection.send(250, "held");
      connection.send(code, "now");
      expect(writes.flat()).toEqual(["250 held\r\n", `${code} now\r\n`]);
      await turn();
      expect(writes.flat()).toEqual(["250 held\r\n", `${code} now\r\n`]);
    }
  });
});
