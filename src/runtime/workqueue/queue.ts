import { type Clock, realClock } from "../clock.ts";
import type { RuntimeMetrics } from "../metrics/metrics.ts";
import { Fifo } from "./fifo.ts";
import { defaultControllerRateLimiter, type RateLimiter } from "./ratelimiter.ts";

export interface WorkQueueOptions<K> {
  readonly name: string;
  readonly rateLimiter?: RateLimiter<K>;
  readonly clock?: Clock;
  readonly metrics?: RuntimeMetrics;
}

/**
 * A de-duplicating, rate-limited work queue with client-go's semantics:
 * - a key waiting in the queue is held once, however often it is added;
 * - a key being processed is never handed to a second worker; if it is added meanwhile it is handed
 *   out again once done() is called for it;
 * - addAfter() keeps the earliest pending time for a key; addRateLimited() waits as the rate
 *   limiter says (per-item backoff and an overall bucket); forget() resets the item's backoff.
 */
export class WorkQueue<K = string> {
  readonly name: string;
  readonly #queue = new Fifo<K>();
  readonly #dirty = new Set<K>();
  readonly #processing = new Map<K, number>();
  readonly #addedAt = new Map<K, number>();
  readonly #waiting = new Map<K, { at: number; cancel(): void }>();
  readonly #getters: ((key: K | undefined) => void)[] = [];
  readonly #drainWaiters: (() => void)[] = [];
  readonly #limiter: RateLimiter<K>;
  readonly #clock: Clock;
  readonly #metrics: RuntimeMetrics | undefined;
  #shuttingDown = false;

  constructor(opts: WorkQueueOptions<K>) {
    this.name = opts.name;
    this.#limiter = opts.rateLimiter ?? defaultControllerRateLimiter<K>();
    this.#clock = opts.clock ?? realClock;
    this.#metrics = opts.metrics;
  }

  get length(): number {
    return this.#queue.length;
  }

  get shuttingDown(): boolean {
    return this.#shuttingDown;
  }

  /** Keys being processed right now. */
  get processing(): number {
    return this.#processing.size;
  }

  /** Whether a worker holds this key right now. */
  isProcessing(key: K): boolean {
    return this.#processing.has(key);
  }

  add(key: K): void {
    if (this.#shuttingDown || this.#dirty.has(key)) return;
    this.#metrics?.queueAdds.inc({ name: this.name });
    this.#dirty.add(key);
    this.#addedAt.set(key, this.#clock.now());
    if (this.#processing.has(key)) return;
    this.#push(key);
  }

  addAfter(key: K, delayMs: number): void {
    if (this.#shuttingDown) return;
    if (delayMs <= 0) {
      this.add(key);
      return;
    }
    const at = this.#clock.now() + delayMs;
    const pending = this.#waiting.get(key);
    if (pending && pending.at <= at) return;
    pending?.cancel();
    const timer = this.#clock.setTimeout(() => {
      this.#waiting.delete(key);
      this.add(key);
    }, delayMs);
    this.#waiting.set(key, { at, cancel: () => timer.cancel() });
  }

  addRateLimited(key: K): void {
    this.#metrics?.queueRetries.inc({ name: this.name });
    this.addAfter(key, this.#limiter.when(key));
  }

  forget(key: K): void {
    this.#limiter.forget(key);
  }

  retries(key: K): number {
    return this.#limiter.retries(key);
  }

  /** The next key, once one is ready; undefined once the queue shuts down. */
  get(): Promise<K | undefined> {
    const key = this.#queue.shift();
    if (key !== undefined) return Promise.resolve(this.#take(key));
    if (this.#shuttingDown) return Promise.resolve(undefined);
    return new Promise((resolve) => this.#getters.push(resolve));
  }

  /** Marks a key as processed; a key added while it was processed is queued again now. */
  done(key: K): void {
    const started = this.#processing.get(key);
    if (started === undefined) return;
    this.#processing.delete(key);
    this.#metrics?.workDuration.observe({ name: this.name }, (this.#clock.now() - started) / 1000);
    if (this.#dirty.has(key) && !this.#shuttingDown) this.#push(key);
    if (this.#processing.size === 0) for (const resolve of this.#drainWaiters.splice(0)) resolve();
  }

  /** Stops handing out keys; waiting get() calls resolve with undefined. */
  shutDown(): void {
    this.#shuttingDown = true;
    for (const pending of this.#waiting.values()) pending.cancel();
    this.#waiting.clear();
    for (const resolve of this.#getters.splice(0)) resolve(undefined);
    this.#updateDepth();
  }

  /** shutDown(), then waits until every key in progress is done. */
  async shutDownWithDrain(): Promise<void> {
    this.shutDown();
    if (this.#processing.size === 0) return;
    await new Promise<void>((resolve) => this.#drainWaiters.push(resolve));
  }

  /** Seconds spent so far on unfinished items, and the longest, for the metrics. */
  observeUnfinished(): void {
    if (!this.#metrics) return;
    const now = this.#clock.now();
    let total = 0;
    let longest = 0;
    for (const started of this.#processing.values()) {
      total += now - started;
      longest = Math.max(longest, now - started);
    }
    this.#metrics.unfinishedWork.set({ name: this.name }, total / 1000);
    this.#metrics.longestRunning.set({ name: this.name }, longest / 1000);
  }

  #push(key: K): void {
    const getter = this.#getters.shift();
    if (getter) getter(this.#take(key));
    else this.#queue.push(key);
    this.#updateDepth();
  }

  #take(key: K): K {
    this.#dirty.delete(key);
    const now = this.#clock.now();
    this.#processing.set(key, now);
    const added = this.#addedAt.get(key);
    this.#addedAt.delete(key);
    if (added !== undefined) this.#metrics?.queueLatency.observe({ name: this.name }, (now - added) / 1000);
    this.#updateDepth();
    return key;
  }

  #updateDepth(): void {
    this.#metrics?.queueDepth.set({ name: this.name }, this.#queue.length);
  }
}
