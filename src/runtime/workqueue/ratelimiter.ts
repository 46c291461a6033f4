/** Decides how long an item waits before it is handed out again after a failure. */
export interface RateLimiter<K> {
  when(item: K): number;
  forget(item: K): void;
  retries(item: K): number;
}

/** Per-item exponential backoff: base * 2^failures, capped. */
export class ExponentialRateLimiter<K> implements RateLimiter<K> {
  readonly #failures = new Map<K, number>();
  readonly #baseMs: number;
  readonly #maxMs: number;

  constructor(baseMs = 5, maxMs = 1000_000) {
    this.#baseMs = baseMs;
    this.#maxMs = maxMs;
  }

  when(item: K): number {
    const n = this.#failures.get(item) ?? 0;
    this.#failures.set(item, n + 1);
    return Math.min(this.#maxMs, this.#baseMs * 2 ** n);
  }

  forget(item: K): void {
    this.#failures.delete(item);
  }

  retries(item: K): number {
    return this.#failures.get(item) ?? 0;
  }
}

/** An overall token bucket: qps tokens per second, at most burst stored. */
export class TokenBucket {
  readonly #qps: number;
  readonly #burst: number;
  #tokens: number;
  #last: number;
  readonly #now: () => number;

  constructor(qps: number, burst: number, now: () => number = Date.now) {
    this.#qps = qps;
    this.#burst = burst;
    this.#tokens = burst;
    this.#now = now;
    this.#last = now();
  }

  /** Reserves one token and returns how long to wait before using it (0 when one is available). */
  reserve(): number {
    this.#refill();
    this.#tokens -= 1;
    return this.#tokens >= 0 ? 0 : Math.ceil((-this.#tokens / this.#qps) * 1000);
  }

  /** Takes a token if one is available now; never waits or goes into debt. */
  tryTake(): boolean {
    this.#refill();
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }

  #refill(): void {
    const now = this.#now();
    this.#tokens = Math.min(this.#burst, this.#tokens + ((now - this.#last) / 1000) * this.#qps);
    this.#last = now;
  }
}

/** The larger delay of several limiters (client-go's default controller rate limiter). */
export class MaxOfRateLimiter<K> implements RateLimiter<K> {
  readonly #limiters: RateLimiter<K>[];

  constructor(...limiters: RateLimiter<K>[]) {
    this.#limiters = limiters;
  }

  when(item: K): number {
    return Math.max(...this.#limiters.map((l) => l.when(item)));
  }

  forget(item: K): void {
    for (const l of this.#limiters) l.forget(item);
  }

  retries(item: K): number {
    return Math.max(...this.#limiters.map((l) => l.retries(item)));
  }
}

/** Adapts a token bucket to the RateLimiter interface. */
export class BucketRateLimiter<K> implements RateLimiter<K> {
  readonly #bucket: TokenBucket;

  constructor(bucket: TokenBucket) {
    this.#bucket = bucket;
  }

  when(): number {
    return this.#bucket.reserve();
  }

  forget(): void {}

  retries(): number {
    return 0;
  }
}

/** 5 ms doubling to 1000 s per item, and 10 qps / burst 100 overall. */
export function defaultControllerRateLimiter<K>(): RateLimiter<K> {
  return new MaxOfRateLimiter<K>(
    new ExponentialRateLimiter<K>(5, 1000_000),
    new BucketRateLimiter<K>(new TokenBucket(10, 100)),
  );
}
