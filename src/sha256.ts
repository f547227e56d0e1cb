/**
 * SHA-256 for the pipeline and the store. WebCrypto works on every runtime, but on Node each
 * `crypto.subtle.digest` is an asynchronous job on the thread pool, which for the few-KiB inputs of
 * message ingest costs far more than the hashing itself (three digests per message were ~14% of the
 * edge thread's time in bench:smtp). A runtime with a synchronous hash installs it with `useSha256`
 * (edge/sqlite.ts does, for Node and Deno). Same bytes in, same digest out.
 */
export type Sha256 = (data: Uint8Array) => Uint8Array | Promise<Uint8Array>;

const webCrypto: Sha256 = async (data) =>
  new Uint8Array(await crypto.subtle.digest("SHA-256", data as Uint8Array<ArrayBuffer>));

let current: Sha256 = webCrypto;

export function useSha256(fn: Sha256): void {
  current = fn;
}

export async function sha256(data: Uint8Array): Promise<Uint8Array> {
  return current(data);
}

export function toHex(bytes: Uint8Array): string {
  let hex = "";
  for (const b of bytes) hex += b.toString(16).padStart(2, "0");
  return hex;
}
