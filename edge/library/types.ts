/** The public types of `mxedge/edge`: what a user's Worker (or embedded handler module) is written against. */
import type { Hono } from "hono";
import type { z } from "zod";
import type { MxedgeEmailMessage } from "../../src/pipeline/handler-message.ts";
import type { DnsblSchema, RuleSchema } from "../../src/rules/schema.ts";
import type { Env } from "../worker.ts";

/** The Worker's bindings mxedge reads (DB, RELAY_SECRET, ADMIN_TOKEN, …) plus the handler's budget. */
export interface MxedgeEnv extends Env {
  /** The email() handler's time budget in milliseconds (default 25000). */
  MXEDGE_HANDLER_TIMEOUT_MS?: string;
}

/** The part of Cloudflare's ExecutionContext mxedge relies on (the real one is passed on Workers). */
export interface ExecutionContextLike {
  waitUntil(promise: Promise<unknown>): void;
  passThroughOnException(): void;
}

/** The part of Cloudflare's ScheduledController mxedge relies on. */
export interface ScheduledControllerLike {
  readonly scheduledTime: number;
  readonly cron: string;
}

/** A rule as in the config file's [[rules]] (see src/rules/schema.ts). */
export type MxedgeRule = z.input<typeof RuleSchema>;
export type MxedgeDnsbl = z.input<typeof DnsblSchema>;

export interface MxedgeOptions<E = MxedgeEnv> {
  /**
   * Runs for every accepted message, once per envelope recipient, after authentication and the rules and
   * before the message is stored. Throwing (or running past the time budget) answers 451 4.3.0 and
   * stores nothing; the sender retries.
   */
  email?(message: MxedgeEmailMessage, env: E, ctx: ExecutionContextLike): void | Promise<void>;
  /** Rules, evaluated before the handler; the RULES variable's rules follow these. */
  rules?: MxedgeRule[];
  dnsbl?: MxedgeDnsbl[];
  /** The handler's time budget in milliseconds (default 25000; MXEDGE_HANDLER_TIMEOUT_MS overrides the default). */
  handlerTimeoutMs?: number;
  /** Mounts your own routes on the edge's Hono app (paths the edge does not use: not /relay, /api, /files). */
  routes?(app: Hono): void;
  /** Runs on the Worker's cron trigger after the edge's own work (webhook retries). */
  scheduled?(controller: ScheduledControllerLike, env: E, ctx: ExecutionContextLike): void | Promise<void>;
}

/** What `mxedge()` returns: a Workers module. */
export interface MxedgeWorker<E = MxedgeEnv> {
  fetch(request: Request, env: E, ctx: ExecutionContextLike): Promise<Response>;
  scheduled(controller: ScheduledControllerLike, env: E, ctx: ExecutionContextLike): Promise<void>;
}

export type { ArcResult, DkimResult, DmarcResult, SpfResult } from "../../src/pipeline/authenticate.ts";
export type {
  MessageAuth,
  MessageConnection,
  MxedgeEmailMessage,
  RawEmailMessage,
  ReplyBuilder,
  SendResult,
} from "../../src/pipeline/handler-message.ts";
