import { randomBytes } from "node:crypto";
import { type Clock, realClock } from "../clock.ts";
import type { KeyLock } from "./key-lock.ts";
import type { EventHandler, Informer } from "../cache/informer.ts";
import { objectKey } from "../cache/store.ts";
import type { KubeObject } from "../client/client.ts";
import { type Logger, silentLogger } from "../log.ts";
import type { RuntimeMetrics } from "../metrics/metrics.ts";
import type { RateLimiter } from "../workqueue/ratelimiter.ts";
import { WorkQueue } from "../workqueue/queue.ts";

const idPrefix = `${randomBytes(3).toString("hex")}-`;
let reconcileCounter = 0;

/** An error that retrying cannot fix: reported (log, metric, onTerminalError) and not requeued. */
export class TerminalError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "TerminalError";
  }
}

/**
 * What a reconcile returns: nothing (done; the key is handled again only when it changes),
 * or requeueAfter (handle again after that delay). Throwing a TerminalError reports it without a
 * retry; throwing anything else retries with per-key exponential backoff.
 */
export type Result = undefined | { readonly requeueAfter: number };

export interface ReconcileContext {
  readonly key: string;
  readonly log: Logger;
  readonly reconcileId: string;
  /** Aborted when the controller stops (shutdown or lost leadership). */
  readonly signal: AbortSignal;
}

export type Reconcile = (ctx: ReconcileContext) => Promise<Result>;

export interface ControllerOptions {
  readonly name: string;
  readonly reconcile: Reconcile;
  /** Parallel workers; a key is never handled by two at once. Default 1. */
  readonly workers?: number;
  readonly logger?: Logger;
  readonly metrics?: RuntimeMetrics;
  readonly clock?: Clock;
  readonly rateLimiter?: () => RateLimiter<string>;
  readonly onTerminalError?: (key: string, err: TerminalError) => void;
  /** A lock shared with other controllers of the same objects: a key is reconciled by one of them at a time. */
  readonly keyLock?: KeyLock;
}

/**
 * A controller: a work queue of object keys fed by informers and N workers calling reconcile.
 * An exception in one item never stops the loop.
 */
export class Controller {
  readonly name: string;
  readonly #opts: ControllerOptions;
  readonly #log: Logger;
  readonly #clock: Clock;
  readonly #sources: (() => string[])[] = [];
  #queue: WorkQueue | undefined;
  #abort: AbortController | undefined;
  #workers: Promise<void>[] = [];

  constructor(opts: ControllerOptions) {
    this.name = opts.name;
    this.#opts = opts;
    this.#log = (opts.logger ?? silentLogger).child({ controller: opts.name });
    this.#clock = opts.clock ?? realClock;
  }

  get running(): boolean {
    return this.#queue !== undefined && !this.#queue.shuttingDown;
  }

  /** The queue while running (for metrics and tests). */
  get queue(): WorkQueue | undefined {
    return this.#queue;
  }

  /** Whether a worker reconciles this key right now (a key is never handled by two at once). */
  busy(key: string): boolean {
    return (this.#queue?.isProcessing(key) ?? false) || (this.#opts.keyLock?.held(key) ?? false);
  }

  /** Queues a key now (ignored while the controller is not running). */
  enqueue(key: string): void {
    this.#queue?.add(key);
  }

  enqueueAfter(key: string, delayMs: number): void {
    this.#queue?.addAfter(key, delayMs);
  }

  /**
   * Feeds the controller from an informer: every add, change and deletion queues the key that
   * `map` returns (the object's own key by default; e.g. the owner's key for owned objects); a
   * change queues the keys of the old and the new version (an owner that lost an object hears of
   * it). On start every cached object is queued once.
   */
  watch<T extends KubeObject>(
    informer: Informer<T>,
    map: (obj: T) => string[] = (o) => [objectKey(o)],
  ): void {
    const handler: EventHandler<T> = {
      add: (o) => this.#enqueueAll(map(o)),
      update: (old, o) => this.#enqueueAll(new Set([...map(old), ...map(o)])),
      delete: (o) => this.#enqueueAll(map(o)),
    };
    informer.addHandler(handler);
    this.#sources.push(() => informer.store.list().flatMap(map));
  }

  /** Queues `key` whenever the controller starts (a controller of one periodic task has no informer). */
  enqueueOnStart(key: string): void {
    this.#sources.push(() => [key]);
  }

  /** Starts the workers; resolves at once. */
  start(): void {
    if (this.running) return;
    this.#queue = new WorkQueue({
      name: this.name,
      clock: this.#clock,
      ...(this.#opts.metrics ? { metrics: this.#opts.metrics } : {}),
      ...(this.#opts.rateLimiter ? { rateLimiter: this.#opts.rateLimiter() } : {}),
    });
    this.#abort = new AbortController();
    for (const source of this.#sources) this.#enqueueAll(source());
    const n = Math.max(1, this.#opts.workers ?? 1);
    const queue = this.#queue;
    const signal = this.#abort.signal;
    this.#workers = Array.from({ length: n }, () => this.#worker(queue, signal));
    this.#log.info({ workers: n }, "controller started");
  }

  /**
   * Stops handing out keys and aborts running reconciles' signal; waits up to graceMs for the
   * workers to finish their current item.
   */
  async stop(graceMs = 30_000): Promise<void> {
    const queue = this.#queue;
    if (!queue) return;
    this.#abort?.abort();
    const drained = queue.shutDownWithDrain();
    await Promise.race([Promise.all([drained, ...this.#workers]), this.#clock.sleep(graceMs)]);
    this.#queue = undefined;
    this.#workers = [];
    this.#log.info("controller stopped");
  }

  #enqueueAll(keys: Iterable<string>): void {
    for (const key of keys) this.#queue?.add(key);
  }

  async #worker(queue: WorkQueue, signal: AbortSignal): Promise<void> {
    for (;;) {
      const key = await queue.get();
      if (key === undefined) return;
      try {
        await this.#handle(queue, key, signal);
      } finally {
        queue.done(key);
      }
    }
  }

  async #handle(queue: WorkQueue, key: string, signal: AbortSignal): Promise<void> {
    const reconcileId = `${idPrefix}${(++reconcileCounter).toString(36)}`;
    const base = this.#log;
    let log: Logger | undefined;
    // The child logger is made on first use: most reconciles of a steady state log nothing.
    const ctx: ReconcileContext = {
      key,
      reconcileId,
      signal,
      get log(): Logger {
        log ??= base.child({ key, reconcileId });
        return log;
      },
    };
    const labels = { controller: this.name };
    const started = this.#clock.now();
    this.#opts.metrics?.activeWorkers.inc(labels);
    try {
      const lock = this.#opts.keyLock;
      const result = await (lock
        ? lock.run(key, () => this.#opts.reconcile(ctx))
        : this.#opts.reconcile(ctx));
      this.#succeeded(queue, key, result);
    } catch (err) {
      this.#failed(queue, key, err, ctx.log);
    } finally {
      this.#opts.metrics?.activeWorkers.dec(labels);
      this.#opts.metrics?.reconcileTime.observe(labels, (this.#clock.now() - started) / 1000);
    }
  }

  #succeeded(queue: WorkQueue, key: string, result: Result): void {
    queue.forget(key);
    const requeue = result !== undefined && result.requeueAfter > 0;
    if (requeue) queue.addAfter(key, result.requeueAfter);
    this.#opts.metrics?.reconcileTotal.inc({
      controller: this.name,
      result: requeue ? "requeue_after" : "success",
    });
  }

  #failed(queue: WorkQueue, key: string, err: unknown, log: Logger): void {
    const metrics = this.#opts.metrics;
    const labels = { controller: this.name };
    if (err instanceof TerminalError) {
      queue.forget(key);
      metrics?.terminalErrors.inc(labels);
      metrics?.reconcileTotal.inc({ ...labels, result: "terminal_error" });
      log.error({ err: err.message }, "reconcile failed; not retried");
      this.#opts.onTerminalError?.(key, err);
      return;
    }
    queue.addRateLimited(key);
    metrics?.reconcileErrors.inc(labels);
    metrics?.reconcileTotal.inc({ ...labels, result: "error" });
    const message = err instanceof Error ? err.message : String(err);
    log.warn({ err: message, retries: queue.retries(key) }, "reconcile failed; retrying");
  }
}
