/**
 * Remote mode's start-up checks and secret: before any listener opens, the relay makes sure the edge
 * answers at all (GET /healthz) and that it accepts the relay secret (GET /relay/v1/health), and says
 * which of the two failed.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { RELAY_PATHS } from "../src/contract.ts";
import type { EdgeFetch } from "./edge-client.ts";

/** Thrown when the edge answered but refused the relay (wrong secret, not an mxedge edge): fatal. */
export class StartupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "StartupError";
  }
}

/**
 * The relay secret, never from the command line: MXEDGE_RELAY_SECRET, else the file named by
 * MXEDGE_RELAY_SECRET_FILE or `edge.secretFile`, else systemd's credential `relay-secret`.
 */
export function relaySecretFrom(
  env: Record<string, string | undefined>,
  secretFile: string | undefined,
): string {
  if (env.MXEDGE_RELAY_SECRET) return env.MXEDGE_RELAY_SECRET;
  const credential = env.CREDENTIALS_DIRECTORY ? join(env.CREDENTIALS_DIRECTORY, "relay-secret") : undefined;
  const file =
    env.MXEDGE_RELAY_SECRET_FILE ||
    secretFile ||
    (credential && existsSync(credential) ? credential : undefined);
  if (!file)
    throw new StartupError(
      "remote mode needs the relay secret: set MXEDGE_RELAY_SECRET, MXEDGE_RELAY_SECRET_FILE or edge.secretFile",
    );
  let secret: string;
  try {
    secret = readFileSync(file, "utf8").trim();
  } catch (err) {
    throw new StartupError(`relay secret file ${file}: ${(err as Error).message}`);
  }
  if (!secret) throw new StartupError(`relay secret file ${file} is empty`);
  return secret;
}

async function get(fetch: EdgeFetch, url: URL, secret?: string): Promise<Response> {
  const headers = new Headers();
  if (secret) headers.set("authorization", `Bearer ${secret}`);
  return fetch(new Request(url, { method: "GET", headers, signal: AbortSignal.timeout(10_000) }));
}

/** An edge that does not answer (yet): the relay starts anyway, answers 4xx, and recovers when it comes. */
export class EdgeUnreachable extends Error {
  constructor(message: string) {
    super(message);
    this.name = "EdgeUnreachable";
  }
}

/**
 * Throws EdgeUnreachable when the edge does not answer, StartupError when it answers but refuses the
 * secret or is not an mxedge edge.
 */
export async function checkEdgeAtStart(fetch: EdgeFetch, baseUrl: string, secret: string): Promise<void> {
  let res: Response;
  try {
    res = await get(fetch, new URL("/healthz", baseUrl));
  } catch (err) {
    const cause = (err as Error & { cause?: Error }).cause?.message;
    throw new EdgeUnreachable(
      `edge unreachable: ${baseUrl} did not answer (${(err as Error).message}${cause ? `: ${cause}` : ""}); is the Worker deployed and edge.url right?`,
    );
  }
  await res.body?.cancel();
  if (!res.ok)
    throw new StartupError(
      `edge unreachable: ${baseUrl}/healthz answered HTTP ${res.status}; is edge.url the mxedge Worker?`,
    );
  try {
    res = await get(fetch, new URL(RELAY_PATHS.health, baseUrl), secret);
  } catch (err) {
    throw new EdgeUnreachable(`edge unreachable: ${baseUrl}${RELAY_PATHS.health}: ${(err as Error).message}`);
  }
  await res.body?.cancel();
  if (res.status === 401 || res.status === 403)
    throw new StartupError(
      `relay secret refused: the edge at ${baseUrl} answered HTTP ${res.status}; the relay's secret must equal the Worker's RELAY_SECRET`,
    );
  if (!res.ok)
    throw new StartupError(`edge at ${baseUrl} answered HTTP ${res.status} to ${RELAY_PATHS.health}`);
}
