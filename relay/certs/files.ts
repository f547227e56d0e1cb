/**
 * Certificate/key files named in the config, loaded into the CertStore and watched: when a file changes
 * (certbot renewing, an operator copying new files, an atomic rename) the pair is read again and the
 * next handshake gets it. A half-written or mismatched pair is refused and the old one keeps serving.
 */
import { readFileSync, statSync } from "node:fs";
import type { Logger } from "../log.ts";
import { type CertStore, makeEntry } from "./store.ts";

export interface CertFilePair {
  cert: string;
  key: string;
}

function stamp(path: string): string {
  try {
    const s = statSync(path);
    return `${s.ino}:${s.size}:${s.mtimeMs}`;
  } catch {
    return "missing";
  }
}

export function loadPair(store: CertStore, pair: CertFilePair, first: boolean): void {
  const entry = makeEntry(`files:${pair.cert}`, {
    cert: readFileSync(pair.cert, "utf8"),
    key: readFileSync(pair.key, "utf8"),
  });
  store.set(entry, first);
}

/**
 * Loads every pair (throws if one cannot be read at start) and polls their files every `intervalMs`
 * (stat polling works for in-place writes and renames alike, on Node and Deno). Returns stop().
 */
export function watchCertFiles(
  store: CertStore,
  pairs: CertFilePair[],
  intervalMs: number,
  log: Logger,
): () => void {
  const stamps = new Map<CertFilePair, string>();
  pairs.forEach((pair, i) => {
    loadPair(store, pair, i === 0);
    stamps.set(pair, stamp(pair.cert) + stamp(pair.key));
  });
  const timer = setInterval(() => {
    pairs.forEach((pair, i) => {
      const now = stamp(pair.cert) + stamp(pair.key);
      if (now === stamps.get(pair)) return;
      stamps.set(pair, now);
      const source = `files:${pair.cert}`;
      try {
        loadPair(store, pair, i === 0);
        store.problem(source, null);
        const e = store.get(source);
        log.info("tls.reloaded", { cert: pair.cert, names: e?.names, notAfter: e?.notAfter.toISOString() });
      } catch (err) {
        // Often a copy caught half-way; the next poll tries again after the next change.
        const reason = (err as Error).message;
        store.problem(source, `reload failed: ${reason}`);
        log.error("tls.reload-failed", { cert: pair.cert, key: pair.key, reason });
      }
    });
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
