/**
 * Turns a handler module's default export into the pipeline's handler hook. The export is either what
 * `mxedge({...})` returned, or an existing Cloudflare Email Worker (`export default { email() {…} }`).
 * Used by the Worker (`mxedge()`) and by `mxedge serve --handler FILE`.
 */
import type { Hono } from "hono";
import type { InboundEmail } from "../../src/pipeline/handler-message.ts";
import { DEFAULT_HANDLER_TIMEOUT_MS, type EmailHandlerHook } from "../../src/pipeline/handler-stage.ts";
import type { ExecutionContextLike, MxedgeDnsbl, MxedgeOptions, MxedgeRule } from "./types.ts";

/** Where mxedge() keeps its options on the Worker module it returns (shared across copies of the library). */
export const OPTIONS = Symbol.for("mxedge.options");

export interface LoadedHandler {
  hook: EmailHandlerHook | undefined;
  rules: MxedgeRule[];
  dnsbl: MxedgeDnsbl[];
  routes: ((app: Hono) => void) | undefined;
}

type EmailFn = (message: InboundEmail, env: unknown, ctx: unknown) => unknown;

export function handlerTimeout(option: number | undefined, envValue: string | undefined): number {
  const n = option ?? (envValue ? Number(envValue) : DEFAULT_HANDLER_TIMEOUT_MS);
  if (!Number.isFinite(n) || n < 10 || n > 600_000) {
    throw new RangeError(`handler time budget must be 10..600000 ms, got ${String(option ?? envValue)}`);
  }
  return n;
}

/** A stand-in ExecutionContext outside Workers: waitUntil work runs on, its failures are reported. */
export function embeddedContext(onError: (err: unknown) => void): ExecutionContextLike {
  return {
    waitUntil(promise) {
      promise.catch(onError);
    },
    passThroughOnException() {},
  };
}

export function optionsOf(mod: unknown): MxedgeOptions<never> | null {
  if (typeof mod !== "object" || mod === null) return null;
  const attached = (mod as { [OPTIONS]?: MxedgeOptions<never> })[OPTIONS];
  if (attached) return attached;
  const email = (mod as { email?: unknown }).email;
  // A plain Email Worker: only its email() is used (its fetch, if any, is not part of the edge).
  if (typeof email === "function") return { email: email.bind(mod) as MxedgeOptions<never>["email"] };
  return null;
}

export function loadHandler(
  mod: unknown,
  opts: { env: unknown; timeoutEnv?: string; onError?: (err: unknown) => void },
): LoadedHandler {
  const options = optionsOf(mod);
  if (!options) {
    throw new TypeError(
      "the handler module's default export is neither mxedge({...}) nor an object with email()",
    );
  }
  const onError = opts.onError ?? ((err: unknown) => console.error("email handler failed:", err));
  const email = options.email as EmailFn | undefined;
  const fallbackCtx = embeddedContext(onError);
  return {
    hook: email
      ? {
          timeoutMs: handlerTimeout(options.handlerTimeoutMs, opts.timeoutEnv),
          onError,
          run: (message, scope) => email(message, scope?.env ?? opts.env, scope?.ctx ?? fallbackCtx),
        }
      : undefined,
    rules: options.rules ?? [],
    dnsbl: options.dnsbl ?? [],
    routes: options.routes,
  };
}
