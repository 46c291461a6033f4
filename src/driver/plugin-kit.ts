import { setTimeout as sleep } from "node:timers/promises";

/** Retries fn while `retryable` says so, with exponential backoff (capped at 10 s) and full jitter. */
export async function withBackoff<T>(
  fn: () => Promise<T>,
  retryable: (err: unknown) => boolean,
  opts: { maxAttempts: number; baseDelayMs: number; signal?: AbortSignal | undefined },
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (attempt >= opts.maxAttempts || !retryable(err) || opts.signal?.aborted) throw err;
      const cap = Math.min(opts.baseDelayMs * 2 ** (attempt - 1), 10_000);
      const delay = Math.round(cap / 2 + (Math.random() * cap) / 2);
      await sleep(delay, undefined, opts.signal ? { signal: opts.signal } : {});
    }
  }
}

/**
 * Runs the calls of one key (a machine's create) one after another, in the order they came, so a
 * create retried while the first still waits on the cloud finds its VM instead of making another.
 */
export class KeyedLock {
  readonly #tails = new Map<string, Promise<unknown>>();

  async run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const before = this.#tails.get(key) ?? Promise.resolve();
    const mine = before.then(fn, fn);
    const tail = mine.catch(() => undefined);
    this.#tails.set(key, tail);
    try {
      return await mine;
    } finally {
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    }
  }
}
