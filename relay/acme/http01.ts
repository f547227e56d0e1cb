/**
 * The HTTP-01 responder: a plain HTTP listener (port 80 in production) that answers only
 * GET /.well-known/acme-challenge/<token> for tokens of an order in progress; everything else is 404.
 */
import { createServer, type Server } from "node:http";

const PREFIX = "/.well-known/acme-challenge/";

export class Http01Responder {
  readonly #tokens = new Map<string, string>();
  #server: Server | null = null;

  set(token: string, keyAuthorization: string): void {
    this.#tokens.set(token, keyAuthorization);
  }

  delete(token: string): void {
    this.#tokens.delete(token);
  }

  /** Answers one request path: the key authorization, or null (404). */
  answer(method: string, path: string): string | null {
    if (method !== "GET" && method !== "HEAD") return null;
    if (!path.startsWith(PREFIX)) return null;
    return this.#tokens.get(path.slice(PREFIX.length)) ?? null;
  }

  listen(host: string, port: number): Promise<number> {
    const server = createServer((req, res) => {
      const path = (req.url ?? "").split("?")[0] ?? "";
      const body = this.answer(req.method ?? "", path);
      if (body === null) {
        res.writeHead(404, { "content-type": "text/plain" }).end("not found\n");
        return;
      }
      res.writeHead(200, { "content-type": "application/octet-stream" }).end(body);
    });
    this.#server = server;
    return new Promise((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, host, () => {
        server.off("error", reject);
        const a = server.address();
        resolve(typeof a === "object" && a ? a.port : port);
      });
    });
  }

  close(): Promise<void> {
    const s = this.#server;
    this.#server = null;
    if (!s) return Promise.resolve();
    s.closeAllConnections();
    return new Promise((r) => s.close(() => r()));
  }
}
