/**
 * Reads the first bytes of a socket through the `readable` event, hands each chunk to `feed`, and puts
 * unconsumed bytes back with `socket.unshift` when `feed` finishes. All listeners it adds are removed
 * before it settles, which leaves the socket's flow state as it found it (a fresh socket starts
 * flowing when the next layer attaches a `data` listener or pipes it).
 */
import type { Socket } from "node:net";

export type FeedStep<T> = { kind: "more" } | { kind: "finish"; value: T; unshift: Uint8Array | null };

export type ReadOutcome<T> =
  | { ok: true; value: T }
  | { ok: false; reason: "timeout" | "closed" | "socket-error"; detail: string };

export function readPrefix<T>(
  socket: Socket,
  timeoutMs: number,
  feed: (chunk: Uint8Array) => FeedStep<T>,
): Promise<ReadOutcome<T>> {
  return new Promise((resolve) => {
    let settled = false;
    const settle = (outcome: ReadOutcome<T>, unshift: Uint8Array | null = null): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.off("readable", onReadable);
      socket.off("end", onEnd);
      socket.off("close", onClose);
      socket.off("error", onError);
      if (unshift !== null && unshift.length > 0) socket.unshift(unshift);
      resolve(outcome);
    };
    const onReadable = (): void => {
      while (!settled) {
        const chunk: unknown = socket.read();
        if (chunk === null) return;
        if (!(chunk instanceof Uint8Array)) {
          settle({ ok: false, reason: "socket-error", detail: "socket is not in binary mode" });
          return;
        }
        const step = feed(chunk);
        if (step.kind === "finish") settle({ ok: true, value: step.value }, step.unshift);
      }
    };
    const onEnd = (): void => settle({ ok: false, reason: "closed", detail: "peer closed the connection" });
    const onClose = (): void => settle({ ok: false, reason: "closed", detail: "connection closed" });
    const onError = (error: Error): void =>
      settle({ ok: false, reason: "socket-error", detail: error.message });
    const timer = setTimeout(
      () => settle({ ok: false, reason: "timeout", detail: `nothing complete within ${timeoutMs} ms` }),
      timeoutMs,
    );
    socket.on("readable", onReadable);
    socket.on("end", onEnd);
    socket.on("close", onClose);
    socket.on("error", onError);
    if (socket.destroyed) onClose();
  });
}
