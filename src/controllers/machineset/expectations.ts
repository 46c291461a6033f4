import type { Machine } from "../../api/v1alpha1/machine.ts";

interface Pending {
  readonly creates: Set<string>;
  readonly deletes: Set<string>;
  readonly since: number;
}

/**
 * What a MachineSet is waiting to see in its cache after its own writes: the names it created and
 * deleted. Until the cache shows them, replica management waits, so a lagging cache never makes it
 * create or delete twice (the race behind new machines deleted during scale-up). Expectations older
 * than `ttlMs` are dropped, so a lost watch event cannot stall a set.
 */
export class Expectations {
  readonly #pending = new Map<string, Pending>();
  readonly #ttlMs: number;

  constructor(ttlMs = 5 * 60_000) {
    this.#ttlMs = ttlMs;
  }

  expect(key: string, now: number, creates: readonly string[], deletes: readonly string[]): void {
    if (creates.length === 0 && deletes.length === 0) return;
    const old = this.#pending.get(key);
    this.#pending.set(key, {
      creates: new Set([...(old?.creates ?? []), ...creates]),
      deletes: new Set([...(old?.deletes ?? []), ...deletes]),
      since: now,
    });
  }

  /** Whether the cached machines show every expected write; prunes the ones seen. */
  satisfied(key: string, cached: ReadonlyMap<string, Machine>, now: number): boolean {
    const p = this.#pending.get(key);
    if (!p) return true;
    for (const name of p.creates) if (cached.has(name)) p.creates.delete(name);
    for (const name of p.deletes) {
      if (!cached.get(name) || cached.get(name)?.metadata?.deletionTimestamp) p.deletes.delete(name);
    }
    if ((p.creates.size === 0 && p.deletes.size === 0) || now - p.since > this.#ttlMs) {
      this.#pending.delete(key);
      return true;
    }
    return false;
  }

  forget(key: string): void {
    this.#pending.delete(key);
  }
}
