/**
 * Per-client-IP AUTH failure throttling: each failure is answered after a growing delay
 * (failures in the window × `authFailureDelayMs`, at most 10×), and once `maxAuthFailures` is reached
 * within `authFailureWindowMs` the session is closed with 421, and every new AUTH from that IP gets 421
 * until the window has passed.
 */
import { WindowCounter } from "./window-counter.ts";

export interface AuthThrottleLimits {
  authFailureDelayMs: number;
  maxAuthFailures: number;
  authFailureWindowMs: number;
}

export class AuthThrottle {
  readonly #limits: AuthThrottleLimits;
  readonly #failures: WindowCounter;

  constructor(limits: AuthThrottleLimits, now?: () => number) {
    this.#limits = limits;
    this.#failures = new WindowCounter(limits.authFailureWindowMs, now);
  }

  /** True when this IP may not try AUTH now. */
  blocked(ip: string): boolean {
    return this.#failures.count(ip) >= this.#limits.maxAuthFailures;
  }

  /** Records a failure; returns how long to wait before answering, and whether to close with 421. */
  fail(ip: string): { delayMs: number; close: boolean } {
    const n = this.#failures.add(ip);
    return {
      delayMs: Math.min(n, 10) * this.#limits.authFailureDelayMs,
      close: n >= this.#limits.maxAuthFailures,
    };
  }
}
