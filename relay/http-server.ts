/** Serves a fetch handler over HTTP on Node (and Deno, through its node:http support). */
import { serve } from "@hono/node-server";

export interface RunningHttp {
  port: number;
  close(): Promise<void>;
}

export function serveHttp(
  /** `env` holds the Node request and response ({ incoming, outgoing }): the client's socket address. */
  fetch: (req: Request, env: unknown) => Response | Promise<Response>,
  host: string,
  port: number,
): Promise<RunningHttp> {
  return new Promise((resolve, reject) => {
    const server = serve({ fetch, hostname: host, port }, (info) => {
      resolve({
        port: info.port,
        close: () => new Promise<void>((r) => server.close(() => r())),
      });
    });
    server.once("error", reject);
  });
}
