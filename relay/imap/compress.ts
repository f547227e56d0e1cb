/**
 * COMPRESS=DEFLATE (RFC 4978): raw deflate both ways on an authenticated session. Every response
 * batch ends with a sync flush, so the client can decode it at once.
 */
import type { Socket } from "node:net";
import { constants, createDeflateRaw, createInflateRaw, type DeflateRaw, type InflateRaw } from "node:zlib";

export class Compression {
  readonly #deflate: DeflateRaw;
  readonly #inflate: InflateRaw;

  constructor(socket: Socket, onInput: (chunk: Buffer) => void, onError: (err: Error) => void) {
    // A smaller window and memLevel keep the per-connection cost down; clients inflate any window.
    // Level 1: a message-by-message sync (mbsync) spent a sixth of its CPU in level-6 deflate.
    this.#deflate = createDeflateRaw({ level: 1, windowBits: 12, memLevel: 6 });
    this.#inflate = createInflateRaw({ maxOutputLength: 64 * 1024 * 1024 });
    this.#deflate.on("data", (d: Buffer) => {
      if (!socket.destroyed) socket.write(d);
    });
    this.#inflate.on("data", onInput);
    this.#deflate.on("error", onError);
    this.#inflate.on("error", onError);
  }

  /** Compressed bytes from the client. */
  input(chunk: Buffer): void {
    this.#inflate.write(chunk);
  }

  write(data: string | Uint8Array): void {
    this.#deflate.write(data);
  }

  /** Resolves once everything written so far has been compressed and handed to the socket. */
  flush(): Promise<void> {
    return new Promise((resolve) => this.#deflate.flush(constants.Z_SYNC_FLUSH, () => resolve()));
  }

  close(): void {
    this.#deflate.destroy();
    this.#inflate.destroy();
  }
}
