/**
 * `mxedge/edge`: the edge as a library. Compose it in your own Worker (`export default mxedge({ email })`)
 * or Node/Deno process; see docs/edge-functions.md.
 */

export { OutboundDeliveryUnavailableError } from "../src/pipeline/handler-message.ts";
export { DEFAULT_HANDLER_TIMEOUT_MS } from "../src/pipeline/handler-stage.ts";
export { createStore, type SqlDriver, type Store } from "../src/store/index.ts";
export { createEdgeApp, DEFAULT_MAX_MESSAGE_BYTES, type EdgeOptions } from "./app.ts";
export { type D1Database, d1Driver } from "./d1.ts";
export { EmailMessage } from "./library/email-message.ts";
export { mxedge } from "./library/mxedge.ts";
export type {
  ArcResult,
  DkimResult,
  DmarcResult,
  ExecutionContextLike,
  MessageAuth,
  MessageConnection,
  MxedgeDnsbl,
  MxedgeEmailMessage,
  MxedgeEnv,
  MxedgeOptions,
  MxedgeRule,
  MxedgeWorker,
  RawEmailMessage,
  ReplyBuilder,
  ScheduledControllerLike,
  SendResult,
  SpfResult,
} from "./library/types.ts";
export { default as worker, type Env } from "./worker.ts";
