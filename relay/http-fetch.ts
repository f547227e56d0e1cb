/**
 * A `fetch(Request)` for the relay's calls to a remote edge, on node:http/node:https.
 *
 * Why not the global fetch: Node's fetch (undici) keeps every chunk of a streamed request body alive
 * until the request is over (measured: a 50 MiB DATA stream held 50 MiB of ArrayBuffers through a major
 * GC), which breaks "the relay never holds the whole message". Here the body is piped to the socket with
 * backpressure and each chunk is garbage once written. Responses are small JSON documents; the signal
 * aborts the request.
 */
import { request as httpRequest, type IncomingMessage } from "node:http";
import { request as httpsRequest } from "node:https";
import { Readable } from "node:stream";
import type { ReadableStream as NodeWebStream } from "node:stream/web";

export async function streamingFetch(req: Request): Promise<Response> {
  const url = new URL(req.url);
  const send = url.protocol === "https:" ? httpsRequest : httpRequest;
  const headers: Record<string, string> = {};
  req.headers.forEach((value, key) => {
    headers[key] = value;
  });
  return new Promise<Response>((resolve, reject) => {
    const out = send(url, { method: req.method, headers, signal: req.signal }, (res: IncomingMessage) => {
      const responseHeaders = new Headers();
      for (const [k, v] of Object.entries(res.headers)) {
        if (typeof v === "string") responseHeaders.set(k, v);
        else if (Array.isArray(v)) for (const item of v) responseHeaders.append(k, item);
      }
      const status = res.statusCode ?? 502;
      const nullBody = status === 204 || status === 304 || req.method === "HEAD";
      resolve(
        new Response(nullBody ? null : (Readable.toWeb(res) as unknown as ReadableStream<Uint8Array>), {
          status,
          statusText: res.statusMessage,
          headers: responseHeaders,
        }),
      );
    });
    out.once("error", reject);
    if (!req.body) {
      out.end();
      return;
    }
    const body = Readable.fromWeb(req.body as unknown as NodeWebStream<Uint8Array>);
    body.once("error", (err) => out.destroy(err));
    body.pipe(out);
  });
}
