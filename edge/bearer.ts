/** Bearer-token middleware with a constant-time comparison. */
import type { MiddlewareHandler } from "hono";
import { timingSafeEqualText } from "../src/store/password.ts";

export function requireBearer(token: () => string, realm: string): MiddlewareHandler {
  return async (c, next) => {
    const header = c.req.header("authorization") ?? "";
    const given = header.startsWith("Bearer ") ? header.slice(7) : "";
    const expected = token();
    if (!expected || !given || !timingSafeEqualText(given, expected)) {
      return c.json({ error: "unauthorized" }, 401, { "www-authenticate": `Bearer realm="${realm}"` });
    }
    await next();
  };
}
