/**
 * Sign-in rate limit, the same limiter (src/limits/auth-throttle.ts) and limits (`limits.maxAuthFailures`,
 * `authFailureDelayMs`, `authFailureWindowMs`) as SMTP AUTH and IMAP LOGIN: each failure is answered
 * after a growing delay, and past the limit every sign-in from that client is refused until the window
 * has passed. Keyed per client address today; it follows the limiter to (user, address) keys.
 */
import { AuthThrottle, type AuthThrottleLimits } from "../../src/limits/auth-throttle.ts";

export const DEFAULT_SIGN_IN_LIMITS: AuthThrottleLimits = {
  authFailureDelayMs: 1000,
  maxAuthFailures: 10,
  authFailureWindowMs: 600_000,
};

export class SignInThrottle {
  readonly #throttle: AuthThrottle;
  constructor(limits: AuthThrottleLimits, now: () => number) {
    this.#throttle = new AuthThrottle(limits, now);
  }

  blocked(_user: string, address: string): boolean {
    return this.#throttle.blocked(address);
  }

  /** Records a failure; resolves after the delay the failure earns. Returns true when now blocked. */
  async fail(_user: string, address: string): Promise<boolean> {
    const { delayMs, close } = this.#throttle.fail(address);
    if (delayMs > 0) await new Promise((r) => setTimeout(r, delayMs));
    return close;
  }
}
