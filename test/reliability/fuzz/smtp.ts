/**
 * The SMTP command path fuzzed through a socket: smtp-server plus our glue (limits, bare-newline policy,
 * the edge calls), in a real `mxedge serve`. Each input is one connection's bytes, written in random
 * pieces and then half-closed; the server must answer and close within the time limit, stay up, and
 * keep its memory bounded.
 */
import { readdirSync, readFileSync } from "node:fs";
import { createConnection } from "node:net";
import { join } from "node:path";
import fc from "fast-check";
import { mutated } from "./targets.ts";

const rcpt = "inbox@reliability.test";
const command = fc.oneof(
  fc.constantFrom(
    "EHLO fuzz.test",
    "HELO fuzz.test",
    "EHLO",
    "MAIL FROM:<a@b.test>",
    "MAIL FROM:<>",
    `RCPT TO:<${rcpt}>`,
    "RCPT TO:<nobody@reliability.test>",
    "RCPT TO:<x@elsewhere.test>",
    "DATA",
    "RSET",
    "NOOP",
    "VRFY a",
    "EXPN b",
    "HELP",
    "STARTTLS",
    "AUTH PLAIN",
    "AUTH PLAIN AGZvbwBiYXI=",
    "AUTH LOGIN",
    "*",
    "BDAT 10",
    "BDAT 0 LAST",
    "MAIL FROM:<a@b.test> SIZE=99999999999",
    "MAIL FROM:<a@b.test> BODY=8BITMIME SMTPUTF8",
    "MAIL FROM:<\u00e9@b.test>",
    'RCPT TO:<"q uoted"@reliability.test>',
    "MAIL FROM:a@b.test",
    "Subject: x",
    ".",
    "..",
    "\u0000",
    "QUIT",
  ),
  fc.string({ maxLength: 60 }),
  fc.string({ minLength: 1000, maxLength: 3000 }),
);
const sep = fc.constantFrom("\r\n", "\r\n", "\r\n", "\n", "\r", "\r\r\n");
const session = fc
  .array(fc.tuple(command, sep), { minLength: 1, maxLength: 16 })
  .map((parts) => Buffer.from(parts.map(([c, s]) => c + s).join(""), "utf8"));

/** Inputs drawn lazily, a batch at a time (drawing them all up front would eat the time box). */
export function* smtpInputs(seeds: Uint8Array[]): Generator<Uint8Array> {
  const arb = smtpArbitrary(seeds);
  for (;;) yield* fc.sample(arb, 100);
}

export function smtpArbitrary(seeds: Uint8Array[]): fc.Arbitrary<Uint8Array> {
  const fromSeeds = seeds.length > 0 ? [mutated(fc.constantFrom(...seeds)), fc.constantFrom(...seeds)] : [];
  return fc.oneof(
    ...fromSeeds,
    session.map((b) => new Uint8Array(b)),
    mutated(session.map((b) => new Uint8Array(b))),
  );
}

export function loadSeeds(dir: string): Uint8Array[] {
  return readdirSync(dir)
    .sort()
    .map((f) => new Uint8Array(readFileSync(join(dir, f))));
}

/** One input over one connection: resolves with how it ended ("closed" is the only good outcome). */
export function smtpExecute(
  port: number,
  input: Uint8Array,
  limitMs: number,
): Promise<"closed" | "hang" | "refused"> {
  return new Promise((resolve) => {
    const s = createConnection(port, "127.0.0.1");
    let greeted = false;
    const timer = setTimeout(() => {
      s.destroy();
      resolve("hang");
    }, limitMs);
    s.on("error", () => {});
    s.on("data", () => {
      if (greeted) return;
      greeted = true;
      // Random pieces, then end of input: the server must wind the session down on its own.
      let i = 0;
      let x = input.length + 7;
      while (i < input.length) {
        x = (x * 1103515245 + 12345) >>> 0;
        const n = 1 + (x % 300);
        s.write(input.subarray(i, i + n));
        i += n;
      }
      s.end();
    });
    s.on("close", () => {
      clearTimeout(timer);
      resolve(greeted ? "closed" : "refused");
    });
  });
}
