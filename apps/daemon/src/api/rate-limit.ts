// A token bucket per connection: `burst` requests at once, refilled at `perSecond`. The clock is passed in.
export interface RateLimit {
  readonly burst: number;
  readonly perSecond: number;
}

export class TokenBucket {
  #tokens: number;
  #last: number;

  constructor(
    private readonly limit: RateLimit,
    now: number,
  ) {
    this.#tokens = limit.burst;
    this.#last = now;
  }

  /** Takes one token; returns 0 when allowed, else how many milliseconds until one is available. */
  take(now: number): number {
    this.#tokens = Math.min(
      this.limit.burst,
      this.#tokens + ((now - this.#last) / 1000) * this.limit.perSecond,
    );
    this.#last = now;
    if (this.#tokens >= 1) {
      this.#tokens -= 1;
      return 0;
    }
    return Math.ceil(((1 - this.#tokens) / this.limit.perSecond) * 1000);
  }
}
