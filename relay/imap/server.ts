/** The IMAP engine for the `imap` (STARTTLS) and `imaps` (implicit TLS) listeners. */
import type { Socket } from "node:net";
import type { SecureContext } from "node:tls";
import { type ListenerConfig, listenerTls } from "../../src/config.ts";
import type { ConnectionInfo } from "../../src/connection.ts";
import type { MessageView } from "../../src/imap/structure.ts";
import type { RelayEdge } from "../edge-client.ts";
import type { ImapStore } from "../imap-client.ts";
import type { ConnectionLimiter } from "../limits/connections.ts";
import type { ProtocolHandler } from "../listener.ts";
import type { Logger } from "../log.ts";
import { BodyCache, SelectCache, ViewCache } from "./cache.ts";
import { type ImapLimitOptions, ImapLimits } from "./limits.ts";
import type { MailboxSnapshot } from "./selected.ts";
import { ImapSession } from "./session.ts";
import { MailboxWatcher } from "./watcher.ts";

export interface ImapEngineOptions {
  listener: ListenerConfig;
  hostname: string;
  edge: RelayEdge;
  store: ImapStore;
  secureContext: () => SecureContext;
  log: Logger;
  maxMessageBytes: number;
  /** How often an idling client's mailbox is polled (serve: 1 s embedded, 10 s remote; env MXEDGE_IMAP_IDLE_POLL_MS). */
  idlePollMs?: number;
  /** Bytes of message bodies kept in memory across sessions (default 64 MiB). */
  cacheBytes?: number;
  limits?: Partial<ImapLimitOptions>;
  /**
   * Embedded mode: subscribes to "the store just changed" from this process (deliveries, any
   * session's writes), so idling clients hear of it at once rather than at the next poll.
   */
  onStoreChange?: (listener: () => void) => void;
  /** Open-connection caps shared by every IMAP listener (total and per client IP). */
  connections?: ConnectionLimiter;
}

export function createImapEngine(opts: ImapEngineOptions): ProtocolHandler {
  const cache = new BodyCache(opts.cacheBytes ?? 64 * 1024 * 1024);
  // Parsed views are about a kilobyte a message: 32 MiB covers a few large mailboxes.
  // Full SELECT states, up to 500,000 messages in all (a few tens of bytes each).
  const snapshots = new SelectCache<MailboxSnapshot>(500_000);
  const views = new ViewCache<MessageView>(Math.max(1024 * 1024, (opts.cacheBytes ?? 64 * 1024 * 1024) / 2));
  const sockets = new Set<Socket>();
  const limits = new ImapLimits(opts.limits);
  const watcher = new MailboxWatcher(opts.store, opts.idlePollMs ?? 2000, opts.log);
  opts.onStoreChange?.(() => watcher.poke());
  return {
    handle(socket: Socket, info: ConnectionInfo) {
      const slot = opts.connections?.acquire(info.client.address) ?? null;
      if (slot && !slot.ok) {
        // RFC 3501 §7.1.5: a BYE greeting refuses the connection.
        opts.log.info("imap.refused", {
          listener: opts.listener.name,
          client: info.client.address,
          reason: slot.reason,
        });
        socket.on("error", () => {});
        socket.end("* BYE Too many connections; try again later\r\n");
        setTimeout(() => socket.destroy(), 2000).unref();
        return;
      }
      if (slot?.ok) socket.once("close", slot.release);
      sockets.add(socket);
      socket.once("close", () => sockets.delete(socket));
      socket.on("error", () => {});
      opts.log.info("imap.connect", {
        listener: opts.listener.name,
        client: info.client.address,
        proxy: info.proxy?.address ?? null,
        tls: info.tls !== null,
      });
      new ImapSession(socket, info, {
        hostname: opts.hostname,
        startTls: listenerTls(opts.listener) === "starttls",
        secureContext: opts.secureContext,
        edge: opts.edge,
        store: opts.store,
        cache,
        views,
        snapshots,
        log: opts.log,
        watcher,
        autologoutMs: 30 * 60 * 1000,
        maxAppendBytes: opts.maxMessageBytes,
        limits,
      }).start();
    },
    async close() {
      watcher.close();
      for (const s of sockets) {
        if (!s.destroyed) s.end("* BYE Server shutting down\r\n");
      }
    },
  };
}
