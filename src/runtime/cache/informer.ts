import type { Logger } from "pino";
import { type Clock, realClock } from "../clock.ts";
import type { KubeClient, KubeObject } from "../client/client.ts";
import { KubeApiError, type WatchEvent } from "../client/raw.ts";
import type { ResourceRef } from "../client/resources.ts";
import type { RuntimeMetrics } from "../metrics/metrics.ts";
import { Backoff } from "./backoff.ts";
import { type IndexErrorHandler, type Indexer, ObjectStore } from "./store.ts";

export type { Indexer } from "./store.ts";

export interface EventHandler<T> {
  add?(obj: T): void;
  update?(oldObj: T, newObj: T): void;
  delete?(obj: T): void;
}

export interface InformerOptions<T> {
  readonly client: KubeClient;
  readonly resource: ResourceRef;
  /** Watch one namespace; all namespaces when unset (or for cluster-scoped resources). */
  readonly namespace?: string;
  readonly labelSelector?: string;
  readonly fieldSelector?: string;
  /** Re-delivers every cached object as an update this often; 0 disables. Default 10 min. */
  readonly resyncMs?: number;
  readonly indexers?: Record<string, Indexer<T>>;
  /** Told once per object version when an indexer throws on it (the object stays cached). */
  readonly onIndexError?: IndexErrorHandler<T>;
  /** Page size of list calls. Default 500. */
  readonly pageSize?: number;
  readonly logger?: Logger;
  readonly metrics?: RuntimeMetrics;
  readonly clock?: Clock;
}

/**
 * Drops metadata.managedFields, which no controller reads and which is often the largest part of
 * an object: caches of thousands of machines and Nodes stay small (client-go controllers do the same
 * with a transform).
 */
function slim<T extends KubeObject>(obj: T): T {
  if (obj.metadata && "managedFields" in obj.metadata) delete obj.metadata.managedFields;
  return obj;
}

/**
 * A shared informer: lists, then watches from the list's resourceVersion, and keeps an indexed
 * cache of the objects. Unlike @kubernetes/client-node's ListWatch it never stops on its own: a
 * closed or failed watch is resumed from the last resourceVersion after a backoff, and a 410
 * (resourceVersion too old, e.g. after an etcd compaction) triggers a full relist whose differences
 * are delivered to the handlers (deletions missed meanwhile included). Cached objects carry no
 * managedFields.
 */
export class Informer<T extends KubeObject> {
  readonly resource: ResourceRef;
  readonly store: ObjectStore<T>;
  readonly #opts: InformerOptions<T>;
  readonly #handlers: EventHandler<T>[] = [];
  readonly #clock: Clock;
  readonly #backoff: Backoff;
  #wake: AbortController | undefined;
  #abort: AbortController | undefined;
  #loop: Promise<void> | undefined;
  #synced = false;
  #syncWaiters: (() => void)[] = [];
  #resourceVersion: string | undefined;
  #lastProgress = 0;
  #resyncTimer: { cancel(): void } | undefined;

  constructor(opts: InformerOptions<T>) {
    this.#opts = opts;
    this.resource = opts.resource;
    this.#clock = opts.clock ?? realClock;
    this.store = new ObjectStore<T>(opts.indexers ?? {}, opts.onIndexError);
    this.#backoff = new Backoff(800, 30_000);
  }

  addHandler(handler: EventHandler<T>): void {
    this.#handlers.push(handler);
    // A handler added after the initial list still sees every cached object once.
    if (this.#synced) for (const obj of this.store.list()) this.#call(() => handler.add?.(obj));
  }

  /**
   * Ends the wait before the next list/watch attempt now (its server is known to answer again), so
   * the cache catches up at once instead of after the backoff.
   */
  retryNow(): void {
    this.#wake?.abort();
  }

  get synced(): boolean {
    return this.#synced;
  }

  /** The resourceVersion the cache is at. */
  get resourceVersion(): string | undefined {
    return this.#resourceVersion;
  }

  /** False when the informer has made no progress (list, watch event or watch start) for too long. */
  healthy(maxSilenceMs = 5 * 60_000): boolean {
    return this.#loop === undefined || this.#clock.now() - this.#lastProgress < maxSilenceMs;
  }

  start(): void {
    if (this.#loop) return;
    this.#abort = new AbortController();
    this.#lastProgress = this.#clock.now();
    this.#loop = this.#run(this.#abort.signal);
    this.#scheduleResync();
  }

  async stop(): Promise<void> {
    this.#abort?.abort();
    this.#resyncTimer?.cancel();
    await this.#loop;
    this.#loop = undefined;
  }

  /** Resolves once the first list has been delivered (or when the signal aborts). */
  waitForSync(signal?: AbortSignal): Promise<void> {
    if (this.#synced || signal?.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      this.#syncWaiters.push(resolve);
      signal?.addEventListener("abort", () => resolve(), { once: true });
    });
  }

  async #run(signal: AbortSignal): Promise<void> {
    let relistReason = "initial";
    while (!signal.aborted) {
      try {
        if (this.#resourceVersion === undefined) {
          await this.#relist(relistReason);
        }
        await this.#watch(signal);
        this.#backoff.reset();
      } catch (err) {
        if (signal.aborted) break;
        if (err instanceof KubeApiError && err.code === 410) {
          this.#opts.logger?.info({ resource: this.resource.plural }, "watch expired (410); relisting");
          this.#resourceVersion = undefined;
          relistReason = "expired";
          continue;
        }
        relistReason = "error";
        const delay = this.#backoff.next();
        this.#opts.logger?.warn(
          { resource: this.resource.plural, err: errorMessage(err), retryInMs: delay },
          "list/watch failed; retrying",
        );
        const wake = new AbortController();
        this.#wake = wake;
        await this.#clock.sleep(delay, AbortSignal.any([signal, wake.signal]));
        this.#wake = undefined;
      }
    }
  }

  async #relist(reason: string): Promise<void> {
    const { client, resource, namespace } = this.#opts;
    const items: T[] = [];
    let cont: string | undefined;
    let rv: string | undefined;
    do {
      const page = await client.list<T>(resource, namespace, {
        ...(this.#opts.labelSelector ? { labelSelector: this.#opts.labelSelector } : {}),
        ...(this.#opts.fieldSelector ? { fieldSelector: this.#opts.fieldSelector } : {}),
        limit: this.#opts.pageSize ?? 500,
        ...(cont ? { continue: cont } : {}),
      });
      items.push(...page.items.map(slim));
      cont = page.metadata?.continue || undefined;
      rv = page.metadata?.resourceVersion;
    } while (cont);
    this.#opts.metrics?.informerRelists.inc({ resource: resource.plural, reason });
    this.#lastProgress = this.#clock.now();
    const { added, updated, deleted } = this.store.replace(items);
    for (const obj of added) this.#emit("add", obj);
    for (const [oldObj, newObj] of updated) this.#emit("update", newObj, oldObj);
    for (const obj of deleted) this.#emit("delete", obj);
    this.#resourceVersion = rv;
    this.#updateGauge();
    if (!this.#synced) {
      this.#synced = true;
      for (const resolve of this.#syncWaiters.splice(0)) resolve();
    }
  }

  async #watch(signal: AbortSignal): Promise<void> {
    const timeoutSeconds = 300 + Math.floor(Math.random() * 300);
    const query: Record<string, string> = {
      allowWatchBookmarks: "true",
      timeoutSeconds: String(timeoutSeconds),
      resourceVersion: this.#resourceVersion ?? "",
    };
    if (this.#opts.labelSelector) query.labelSelector = this.#opts.labelSelector;
    if (this.#opts.fieldSelector) query.fieldSelector = this.#opts.fieldSelector;
    this.#lastProgress = this.#clock.now();
    await this.#opts.client.watch<T>(
      this.resource,
      this.#opts.namespace,
      query,
      (e) => this.#onWatchEvent(e),
      {
        signal,
        idleTimeoutMs: (timeoutSeconds + 60) * 1000,
      },
    );
  }

  #onWatchEvent(event: WatchEvent<T>): void {
    this.#lastProgress = this.#clock.now();
    slim(event.object);
    const rv = event.object.metadata?.resourceVersion;
    if (event.type === "BOOKMARK") {
      if (rv) this.#resourceVersion = rv;
      return;
    }
    if (event.type === "DELETED") {
      const old = this.store.delete(event.object);
      this.#emit("delete", old ?? event.object);
    } else {
      const old = this.store.upsert(event.object);
      if (old) this.#emit("update", event.object, old);
      else this.#emit("add", event.object);
    }
    if (rv) this.#resourceVersion = rv;
    this.#updateGauge();
  }

  #emit(kind: "add" | "update" | "delete", obj: T, old?: T): void {
    for (const h of this.#handlers) {
      if (kind === "add") this.#call(() => h.add?.(obj));
      else if (kind === "delete") this.#call(() => h.delete?.(obj));
      else this.#call(() => h.update?.(old ?? obj, obj));
    }
  }

  #call(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.#opts.logger?.error(
        { resource: this.resource.plural, err: errorMessage(err) },
        "event handler failed",
      );
    }
  }

  #scheduleResync(): void {
    const every = this.#opts.resyncMs ?? 10 * 60_000;
    if (every <= 0) return;
    this.#resyncTimer = this.#clock.setTimeout(() => {
      if (this.#synced) for (const obj of this.store.list()) this.#emit("update", obj, obj);
      this.#scheduleResync();
    }, every);
  }

  #updateGauge(): void {
    this.#opts.metrics?.informerObjects.set({ resource: this.resource.plural }, this.store.size);
  }
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
