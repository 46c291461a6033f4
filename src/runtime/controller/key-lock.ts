/**
 * A lock per object key shared by several controllers, so that two controllers of one object (a
 * machine's lifecycle and its termination) never work on it at the same time: a deletion never
 * runs beside a create still waiting on the cloud, which would leave the create's VM behind.
 */
export class KeyLock {
  readonly #tails = new Map<string, Promise<void>>();

  /** Whether someone holds or waits for the key. */
  held(key: string): boolean {
    return this.#tails.has(key);
  }

  /** Runs `fn` once every earlier holder of `key` is done; holders run in the order they asked. */
  async run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.#tails.get(key);
    let release = (): void => undefined;
    const mine = new Promise<void>((resolve) => {
      release = resolve;
    });
    const tail = previous ? previous.then(() => mine) : mine;
    this.#tails.set(key, tail);
    try {
      if (previous) await previous;
      return await fn();
    } finally {
      release();
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    }
  }
}
