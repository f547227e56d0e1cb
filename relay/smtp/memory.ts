/**
 * Keeps a large DATA stream from piling up garbage. Every chunk the relay streams (socket read,
 * smtp-server's dot-unstuffing copy, the HTTP write) is an ArrayBuffer outside the V8 heap; the heap
 * itself barely grows, so V8 lets ~64 MiB of such dead external memory accumulate before it collects,
 * and the relay's RSS grows by that much for one big message. Asking for a young-generation collection
 * every few MiB streamed frees those buffers while they are still young (a scavenge of a small heap
 * costs well under a millisecond). Where the runtime gives no access to the collector, this is a no-op.
 */
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";

type Gc = (options?: { type?: "minor" | "major"; execution?: "sync" | "async" }) => void;

let collect: Gc | null | undefined;

function collector(): Gc | null {
  if (collect !== undefined) return collect;
  collect = null;
  try {
    const existing = (globalThis as { gc?: unknown }).gc;
    if (typeof existing === "function") collect = existing as Gc;
    else {
      setFlagsFromString("--expose-gc");
      const fn: unknown = runInNewContext("typeof gc === 'function' ? gc : null");
      collect = typeof fn === "function" ? (fn as Gc) : null;
    }
  } catch {
    collect = null;
  }
  return collect;
}

/** Returns a function to call with the running byte count; it collects young garbage every `every` bytes. */
export function garbageGuard(every = 8 * 1024 * 1024): (bytes: number) => void {
  let next = every;
  return (bytes) => {
    if (bytes < next) return;
    next = bytes + every;
    try {
      collector()?.({ type: "minor" });
    } catch {
      // an optimisation only
    }
  };
}
