/**
 * When a failed webhook delivery is tried again: exponential backoff with full jitter, about ten attempts
 * over about a day by default: backoffs of 6, 12, 24, 48, 96, 192 minutes, then 6 h (the cap), each
 * drawn between half and all of that, so the nine waits add up to 12–24 h.
 */
export interface RetryPolicy {
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = {
  maxAttempts: 10,
  baseDelayMs: 6 * 60_000,
  maxDelayMs: 6 * 3600_000,
};

/**
 * The delay before attempt `attempt + 1`, after `attempt` failed attempts (1-based), or null when the
 * delivery is out of attempts. `random` in [0, 1) spreads retries between half and the whole backoff.
 */
export function nextDelayMs(
  attempt: number,
  policy: RetryPolicy = DEFAULT_RETRY,
  random: number = Math.random(),
): number | null {
  if (attempt >= policy.maxAttempts) return null;
  const backoff = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
  return Math.round(backoff / 2 + (backoff / 2) * random);
}

/** What an HTTP answer means for a delivery. */
export function classifyResponse(status: number): "delivered" | "disable" | "retry" {
  if (status >= 200 && status < 300) return "delivered";
  if (status === 410) return "disable";
  return "retry";
}
