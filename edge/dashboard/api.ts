/**
 * The dashboard reads and writes only through the admin API's own routes, called in-process as the
 * signed-in principal (see edge/admin-auth.ts): a page shows what the API answers that principal, and
 * a form does what the API lets them do. There is no second code path to keep in step.
 */
import type { Hono } from "hono";
import type { Principal } from "../../src/admin/principal.ts";
import { withPrincipal } from "../admin-auth.ts";

export interface ApiAnswer<T> {
  ok: boolean;
  status: number;
  body: T;
  /** The API's error message on a 4xx/5xx. */
  error: string | null;
}

export interface Api {
  get<T>(path: string): Promise<ApiAnswer<T>>;
  send<T>(method: "POST" | "PUT" | "PATCH" | "DELETE", path: string, body?: unknown): Promise<ApiAnswer<T>>;
  /** The API's response as is (raw message download). */
  raw(path: string): Promise<Response>;
}

/** Thrown by `need` when a page's data is not there (the API's 403/404 becomes the page's). */
export class ApiRefusal extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

export function apiFor(api: Hono, principal: Principal): Api {
  const request = (method: string, path: string, body?: unknown) =>
    api.fetch(
      withPrincipal(
        new Request(`http://dashboard.internal${path}`, {
          method,
          headers: body === undefined ? {} : { "content-type": "application/json" },
          body: body === undefined ? undefined : JSON.stringify(body),
        }),
        principal,
      ),
    );
  const answer = async <T>(res: Response): Promise<ApiAnswer<T>> => {
    const text = await res.text();
    let body: unknown = null;
    try {
      body = text ? JSON.parse(text) : null;
    } catch {
      body = text;
    }
    const error = res.ok
      ? null
      : ((body as { error?: string } | null)?.error ?? `the API answered ${res.status}`);
    return { ok: res.ok, status: res.status, body: body as T, error };
  };
  return {
    get: async (path) => answer(await request("GET", path)),
    send: async (method, path, body) => answer(await request(method, path, body ?? {})),
    raw: (path) => Promise.resolve(request("GET", path)),
  };
}

/** The body of a successful answer; otherwise the page answers with the API's status. */
export function need<T>(a: ApiAnswer<T>): T {
  if (!a.ok) throw new ApiRefusal(a.status, a.error ?? "refused");
  return a.body;
}

/** A path segment, encoded. */
export const seg = (s: string): string => encodeURIComponent(s);
