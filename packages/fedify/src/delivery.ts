import { type CircuitBreakerOptions, createExponentialBackoffPolicy, type RetryPolicy } from "@fedify/fedify";

/** The retry and circuit-breaker settings a Fedify server passes to `createFederation`. */
export interface DeliveryPolicy {
  readonly outboxRetryPolicy: RetryPolicy;
  readonly circuitBreaker: CircuitBreakerOptions;
}

/** Longest pause between two attempts to reach a server that is down. */
export const MAX_RETRY_DELAY_SECONDS = 60;
/** How long an open circuit waits before one probe delivery tests the server again. */
export const PROBE_DELAY_SECONDS = 10;
/** How long a delivery is retried or held before it is given up. */
export const GIVE_UP_AFTER_DAYS = 7;
const DAY_MS = 86_400_000;

/**
 * Delivery tuned for servers that restart: a failed delivery is retried after about 1, 2, 4 ... seconds, never
 * more than a minute apart, for a week. Five failures within a minute open the host's circuit: the other
 * deliveries to it are held (not attempted) and one probe goes out every {@link PROBE_DELAY_SECONDS}; the first
 * probe that succeeds closes it and the held ones follow within a second. Fedify's defaults (10 attempts up to
 * 12 hours apart, a 30-minute pause after five failures in ten minutes) left a peer that was down for a second
 * and a half without its mail for half an hour. Every sotto Fedify server (sotto-server, the gateway's
 * embedded one) uses this: `createFederation({ ...deliveryPolicy(), ... })`.
 */
export function deliveryPolicy(): DeliveryPolicy {
  const backoff = createExponentialBackoffPolicy({
    initialDelay: { seconds: 1 },
    maxDelay: { seconds: MAX_RETRY_DELAY_SECONDS },
    maxAttempts: Number.POSITIVE_INFINITY,
  });
  return {
    // Held deliveries do not count as attempts, so the cut-off is by age, not by count.
    outboxRetryPolicy: (context) =>
      context.elapsedTime.total("millisecond") > GIVE_UP_AFTER_DAYS * DAY_MS ? null : backoff(context),
    circuitBreaker: {
      failureThreshold: 5,
      failureWindow: { minutes: 1 },
      recoveryDelay: { seconds: PROBE_DELAY_SECONDS },
      heldActivityTtl: { hours: GIVE_UP_AFTER_DAYS * 24 },
    },
  };
}
