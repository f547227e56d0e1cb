/** Reading admin API requests: JSON bodies checked against a zod schema, with field-level 400s. */
import type { Context } from "hono";
import type { z } from "zod";
import { fieldIssues } from "../../src/admin/api-schemas.ts";

export type Parsed<T> = { ok: true; data: T } | { ok: false; response: Response };

export async function readBody<S extends z.ZodType>(c: Context, schema: S): Promise<Parsed<z.output<S>>> {
  let raw: unknown;
  const text = await c.req.text();
  try {
    raw = text === "" ? {} : JSON.parse(text);
  } catch {
    return { ok: false, response: c.json({ error: "the body must be JSON", issues: [] }, 400) };
  }
  const result = schema.safeParse(raw);
  if (!result.success) {
    const issues = fieldIssues(result.error);
    return {
      ok: false,
      response: c.json({ error: issues.map((i) => `${i.path}: ${i.message}`).join("; "), issues }, 400),
    };
  }
  return { ok: true, data: result.data };
}
