import type { KubeObject } from "../client/client.ts";

/** Index values of an object (e.g. its owner's uid); an object may have several. */
export type Indexer<T> = (obj: T) => readonly string[];

/** namespace/name, or name for cluster-scoped objects. */
export function objectKey(obj: KubeObject): string {
  const ns = obj.metadata?.namespace;
  const name = obj.metadata?.name ?? "";
  return ns ? `${ns}/${name}` : name;
}

/** Splits a key made by objectKey. */
export function splitKey(key: string): { namespace: string | undefined; name: string } {
  const i = key.indexOf("/");
  return i < 0 ? { namespace: undefined, name: key } : { namespace: key.slice(0, i), name: key.slice(i + 1) };
}

/** Told once per object version and index when an indexer throws on (or returns garbage for) an object. */
export type IndexErrorHandler<T> = (index: string, obj: T, err: unknown) => void;

const MAX_REPORTED = 4096;

/**
 * The informer's cache: objects by key, plus secondary indexes (label, owner, providerID, …). An
 * indexer that throws on a malformed object (one stored before its CRD's validation tightened,
 * say) leaves that object out of that index only: the object stays cached, the cache keeps
 * following the watch, and onIndexError hears of it once per object version.
 */
export class ObjectStore<T extends KubeObject> {
  readonly #items = new Map<string, T>();
  readonly #indexers: Record<string, Indexer<T>>;
  readonly #indexes = new Map<string, Map<string, Set<string>>>();
  readonly #onIndexError: IndexErrorHandler<T> | undefined;
  readonly #reported = new Set<string>();

  constructor(indexers: Record<string, Indexer<T>>, onIndexError?: IndexErrorHandler<T>) {
    this.#indexers = { ...indexers };
    this.#onIndexError = onIndexError;
    for (const name of Object.keys(indexers)) this.#indexes.set(name, new Map());
  }

  /** An indexer's values for obj; [] (reported once) when it throws or returns no list of strings. */
  #values(name: string, fn: Indexer<T>, obj: T): readonly string[] {
    let problem: unknown;
    try {
      const values: unknown = fn(obj);
      if (Array.isArray(values)) return values.filter((v): v is string => typeof v === "string");
      problem = new TypeError(`indexer ${name} returned ${typeof values}, not a list`);
    } catch (err) {
      problem = err;
    }
    const id = [name, objectKey(obj), obj.metadata?.uid, obj.metadata?.resourceVersion].join("\u0000");
    if (!this.#reported.has(id)) {
      if (this.#reported.size >= MAX_REPORTED) this.#reported.clear();
      this.#reported.add(id);
      this.#onIndexError?.(name, obj, problem);
    }
    return [];
  }

  /** Adds indexes (an informer shared by several controllers); existing objects are indexed at once. */
  addIndexers(indexers: Record<string, Indexer<T>>): void {
    for (const [name, fn] of Object.entries(indexers)) {
      if (this.#indexes.has(name)) continue;
      this.#indexers[name] = fn;
      const index = new Map<string, Set<string>>();
      this.#indexes.set(name, index);
      for (const [key, obj] of this.#items) {
        for (const value of this.#values(name, fn, obj)) {
          const keys = index.get(value) ?? new Set<string>();
          keys.add(key);
          index.set(value, keys);
        }
      }
    }
  }

  get size(): number {
    return this.#items.size;
  }

  get(key: string): T | undefined {
    return this.#items.get(key);
  }

  list(): T[] {
    return [...this.#items.values()];
  }

  /** Objects whose indexer `index` yields `value`. */
  byIndex(index: string, value: string): T[] {
    const keys = this.#indexes.get(index)?.get(value);
    if (!this.#indexes.has(index)) throw new Error(`no index named ${index}`);
    return keys ? [...keys].map((k) => this.#items.get(k)).filter((o): o is T => o !== undefined) : [];
  }

  /** Inserts or replaces; returns the previous object. */
  upsert(obj: T): T | undefined {
    const key = objectKey(obj);
    const old = this.#items.get(key);
    if (old) this.#unindex(key, old);
    this.#items.set(key, obj);
    this.#index(key, obj);
    return old;
  }

  delete(obj: T): T | undefined {
    const key = objectKey(obj);
    const old = this.#items.get(key);
    if (old) {
      this.#unindex(key, old);
      this.#items.delete(key);
    }
    return old;
  }

  /** Replaces the whole content; returns what was added, changed and removed. */
  replace(items: readonly T[]): { added: T[]; updated: [T, T][]; deleted: T[] } {
    const added: T[] = [];
    const updated: [T, T][] = [];
    const seen = new Set<string>();
    for (const obj of items) {
      const key = objectKey(obj);
      seen.add(key);
      const old = this.upsert(obj);
      if (!old) added.push(obj);
      else if (old.metadata?.resourceVersion !== obj.metadata?.resourceVersion) updated.push([old, obj]);
    }
    const deleted: T[] = [];
    for (const [key, obj] of this.#items) {
      if (!seen.has(key)) deleted.push(obj);
    }
    for (const obj of deleted) this.delete(obj);
    return { added, updated, deleted };
  }

  #index(key: string, obj: T): void {
    for (const [name, fn] of Object.entries(this.#indexers)) {
      const index = this.#indexes.get(name);
      for (const value of this.#values(name, fn, obj)) {
        let keys = index?.get(value);
        if (!keys) {
          keys = new Set();
          index?.set(value, keys);
        }
        keys.add(key);
      }
    }
  }

  #unindex(key: string, obj: T): void {
    for (const [name, fn] of Object.entries(this.#indexers)) {
      const index = this.#indexes.get(name);
      for (const value of this.#values(name, fn, obj)) {
        const keys = index?.get(value);
        keys?.delete(key);
        if (keys?.size === 0) index?.delete(value);
      }
    }
  }
}

/** Ready-made indexers. */
export const Indexers = {
  /** By the value of one label. */
  label:
    (label: string) =>
    (obj: KubeObject): string[] => {
      const labels = obj.metadata?.labels as Record<string, string> | undefined;
      const v = labels?.[label];
      return v === undefined ? [] : [v];
    },
  /** By the UID of each owner. */
  owner: (obj: KubeObject): string[] =>
    ((obj.metadata?.ownerReferences ?? []) as { uid: string }[]).map((o) => o.uid),
  /** By the controller owner's UID. */
  controller: (obj: KubeObject): string[] =>
    ((obj.metadata?.ownerReferences ?? []) as { uid: string; controller?: boolean }[])
      .filter((o) => o.controller)
      .map((o) => o.uid),
  /** By spec.providerID (Nodes, Machines). */
  providerID: (obj: KubeObject): string[] => {
    const id = (obj.spec as { providerID?: string } | undefined)?.providerID;
    return id ? [id] : [];
  },
} as const;
