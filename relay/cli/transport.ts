/**
 * How admin commands reach the admin API: over HTTP to a remote edge (`--edge URL`, token from --token,
 * --token-file or MXEDGE_ADMIN_TOKEN), or in this process against the embedded data directory, where
 * the edge app is built and its fetch() called directly. Both go through the same routes.
 */
export interface ApiResponse {
  status: number;
  contentType: string;
  /** Parsed JSON, or null when the body is not JSON. */
  json: unknown;
  bytes: Uint8Array;
}

export type AdminTransport = (method: string, path: string, body?: unknown) => Promise<ApiResponse>;

export function fetchTransport(
  base: string,
  token: string,
  fetcher: (req: Request) => Promise<Response> | Response,
): AdminTransport {
  return async (method, path, body) => {
    const headers: Record<string, string> = { authorization: `Bearer ${token}` };
    if (body !== undefined) headers["content-type"] = "application/json";
    const request = new Request(new URL(path, base), {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    let res: Response;
    try {
      res = await fetcher(request);
    } catch (err) {
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      throw new Error(
        `cannot reach the edge at ${base}: ${cause?.code ?? cause?.message ?? (err as Error).message}`,
      );
    }
    const bytes = new Uint8Array(await res.arrayBuffer());
    const contentType = res.headers.get("content-type") ?? "";
    let json: unknown = null;
    if (contentType.includes("json")) {
      try {
        json = JSON.parse(new TextDecoder().decode(bytes));
      } catch {}
    }
    return { status: res.status, contentType, json, bytes };
  };
}
