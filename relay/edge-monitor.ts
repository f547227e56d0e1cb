/**
 * Asks the edge every few seconds whether it is up (GET /relay/v1/health with the relay secret) and
 * remembers the answer, for /readyz and for refusing SMTP connections at connect (`edge.whenDown = "421"`).
 * Mail itself never waits for this: each transaction asks the edge, so recovery is immediate.
 */
import type { Logger } from "./log.ts";

export type EdgeCheck = () => Promise<{ ok: true } | { ok: false; reason: string }>;

export interface EdgeState {
  state: "unknown" | "up" | "down";
  since: string;
  lastError: string | null;
  lastCheck: string | null;
}

export class EdgeMonitor {
  readonly #check: EdgeCheck;
  readonly #intervalMs: number;
  readonly #log: Logger;
  #state: EdgeState = { state: "unknown", since: new Date().toISOString(), lastError: null, lastCheck: null };
  #timer: ReturnType<typeof setInterval> | null = null;
  #inFlight = false;

  constructor(check: EdgeCheck, intervalMs: number, log: Logger) {
    this.#check = check;
    this.#intervalMs = intervalMs;
    this.#log = log;
  }

  get state(): EdgeState {
    return this.#state;
  }

  /** What the start-up check found, until the first probe answers. */
  assume(state: "up" | "down", reason: string | null): void {
    const now = new Date().toISOString();
    this.#state = { state, since: now, lastError: reason, lastCheck: now };
  }

  isDown(): boolean {
    return this.#state.state === "down";
  }

  async probe(): Promise<void> {
    if (this.#inFlight) return;
    this.#inFlight = true;
    try {
      const r = await this.#check().catch((err: unknown) => ({
        ok: false as const,
        reason: (err as Error).message,
      }));
      const now = new Date().toISOString();
      const next = r.ok ? "up" : "down";
      if (next !== this.#state.state) {
        if (next === "down") this.#log.error("edge.down", { reason: r.ok ? null : r.reason });
        else if (this.#state.state === "down") this.#log.info("edge.up", { downSince: this.#state.since });
        this.#state = { state: next, since: now, lastError: null, lastCheck: now };
      }
      this.#state = { ...this.#state, lastCheck: now, lastError: r.ok ? null : r.reason };
    } finally {
      this.#inFlight = false;
    }
  }

  start(): void {
    void this.probe();
    this.#timer = setInterval(() => void this.probe(), this.#intervalMs);
    this.#timer.unref?.();
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
  }
}
