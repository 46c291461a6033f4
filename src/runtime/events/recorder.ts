import { randomBytes } from "node:crypto";
import type { Logger } from "pino";
import { type Clock, realClock } from "../clock.ts";
import type { KubeClient, KubeObject } from "../client/client.ts";
import { Resources } from "../client/resources.ts";
import type { RuntimeMetrics } from "../metrics/metrics.ts";
import { TokenBucket } from "../workqueue/ratelimiter.ts";

export type EventType = "Normal" | "Warning";

/** Reason of the Warning Event about an object the cache cannot index (see ObjectStore). */
export const MALFORMED_OBJECT_REASON = "MalformedObject";

export interface EventRecorderOptions {
  readonly client: KubeClient;
  /** reportingController of every event, e.g. machine.sapcloud.io/sprout. */
  readonly controller: string;
  /** reportingInstance (this process's identity). */
  readonly instance: string;
  readonly clock?: Clock;
  readonly logger?: Logger;
  readonly metrics?: RuntimeMetrics;
  /** Repeats of one event are written at most this often, as a series count. Default 30 s. */
  readonly seriesFlushMs?: number;
  /** Events per object per burst, refilled at refillPerMinute. Defaults 25 and 6. */
  readonly burstPerObject?: number;
  readonly refillPerMinute?: number;
}

interface SeriesEntry {
  name: string;
  namespace: string;
  count: number;
  written: number;
  lastObserved: number;
  flushScheduled: boolean;
}

const MAX_TRACKED = 4096;
const microTime = (ms: number): string => new Date(ms).toISOString().replace("Z", "000Z");

/**
 * Writes events.k8s.io/v1 Events about objects. An identical event (same object, type, reason,
 * action and note) is created once and then counted in its `series`, written at most every
 * seriesFlushMs; a per-object token bucket drops events beyond a burst. So a hot loop can never
 * flood the apiserver. Events are best effort: failures are logged and counted, never thrown.
 */
export class EventRecorder {
  readonly #opts: EventRecorderOptions;
  readonly #clock: Clock;
  readonly #series = new Map<string, SeriesEntry>();
  readonly #buckets = new Map<string, TokenBucket>();

  constructor(opts: EventRecorderOptions) {
    this.#opts = opts;
    this.#clock = opts.clock ?? realClock;
  }

  /** Records an event about `regarding`; resolves when written (or dropped). */
  async record(
    regarding: KubeObject,
    type: EventType,
    reason: string,
    action: string,
    note: string,
  ): Promise<void> {
    const meta = regarding.metadata ?? {};
    const uid = meta.uid ?? `${meta.namespace}/${meta.name}`;
    const key = [uid, type, reason, action, note].join("\u0000");
    const now = this.#clock.now();
    const existing = this.#series.get(key);
    if (existing) {
      existing.count++;
      existing.lastObserved = now;
      this.#scheduleFlush(existing);
      return;
    }
    if (!this.#allow(uid)) {
      this.#opts.metrics?.eventsDropped.inc({ reason: "rate_limited" });
      return;
    }
    const namespace = meta.namespace ?? "default";
    const name = `${meta.name ?? "object"}.${randomBytes(8).toString("hex")}`;
    this.#remember(key, { name, namespace, count: 1, written: 1, lastObserved: now, flushScheduled: false });
    try {
      await this.#opts.client.create(Resources.events, {
        apiVersion: "events.k8s.io/v1",
        kind: "Event",
        metadata: { name, namespace },
        eventTime: microTime(now),
        reportingController: this.#opts.controller,
        reportingInstance: this.#opts.instance,
        action,
        reason,
        type,
        note: note.slice(0, 1024),
        regarding: {
          apiVersion: regarding.apiVersion,
          kind: regarding.kind,
          name: meta.name,
          namespace: meta.namespace,
          uid: meta.uid,
          resourceVersion: meta.resourceVersion,
        },
      });
    } catch (err) {
      this.#series.delete(key);
      this.#opts.metrics?.eventsDropped.inc({ reason: "error" });
      this.#opts.logger?.warn({ err: String(err), reason }, "could not write event");
    }
  }

  #scheduleFlush(entry: SeriesEntry): void {
    if (entry.flushScheduled) return;
    entry.flushScheduled = true;
    this.#clock.setTimeout(() => {
      entry.flushScheduled = false;
      void this.#flush(entry);
    }, this.#opts.seriesFlushMs ?? 30_000);
  }

  async #flush(entry: SeriesEntry): Promise<void> {
    if (entry.count === entry.written) return;
    const count = entry.count;
    try {
      await this.#opts.client.patch(Resources.events, entry.namespace, entry.name, {
        series: { count, lastObservedTime: microTime(entry.lastObserved) },
      });
      entry.written = count;
    } catch (err) {
      this.#opts.metrics?.eventsDropped.inc({ reason: "error" });
      this.#opts.logger?.warn({ err: String(err) }, "could not update event series");
    }
  }

  #allow(uid: string): boolean {
    let bucket = this.#buckets.get(uid);
    if (!bucket) {
      const perMinute = this.#opts.refillPerMinute ?? 6;
      bucket = new TokenBucket(perMinute / 60, this.#opts.burstPerObject ?? 25, () => this.#clock.now());
      if (this.#buckets.size >= MAX_TRACKED) this.#buckets.delete(this.#buckets.keys().next().value ?? "");
      this.#buckets.set(uid, bucket);
    }
    return bucket.tryTake();
  }

  #remember(key: string, entry: SeriesEntry): void {
    if (this.#series.size >= MAX_TRACKED) this.#series.delete(this.#series.keys().next().value ?? "");
    this.#series.set(key, entry);
  }
}
