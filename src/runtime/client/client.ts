import type { KubeConfig } from "@kubernetes/client-node";
import { type Clock, realClock } from "../clock.ts";
import type { RuntimeMetrics } from "../metrics/metrics.ts";
import { TokenBucket } from "../workqueue/ratelimiter.ts";
import {
  DEFAULT_REQUEST_TIMEOUT_MS,
  KubeApiError,
  type RawRequest,
  rawRequest,
  rawWatch,
  type WatchEvent,
} from "./raw.ts";
import { type ResourceRef, resourcePath } from "./resources.ts";

/** The fields of an object every client call relies on. */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata?: {
    name?: string;
    namespace?: string;
    uid?: string;
    resourceVersion?: string;
    [key: string]: unknown;
  };
  [key: string]: unknown;
}

export interface ObjectList<T> {
  items: T[];
  metadata?: { resourceVersion?: string; continue?: string };
}

export type PatchType = "merge" | "json" | "apply" | "strategic";

const PATCH_CONTENT_TYPES: Record<PatchType, string> = {
  merge: "application/merge-patch+json",
  json: "application/json-patch+json",
  apply: "application/apply-patch+yaml",
  strategic: "application/strategic-merge-patch+json",
};

export interface ClientOptions {
  /** Client-side request rate limit (requests per second). Default 20. */
  readonly qps?: number;
  /** Requests allowed in a burst above qps. Default 30. */
  readonly burst?: number;
  readonly metrics?: RuntimeMetrics;
  readonly clock?: Clock;
  /** Field manager name for writes. Default "sprout". */
  readonly fieldManager?: string;
  /**
   * Deadline of each request (watches have their own: a server-side timeout and an idle timer).
   * Default 60 s, kube-apiserver's own --request-timeout; a request past it is closed and fails.
   */
  readonly requestTimeoutMs?: number;
}

export interface ListOptions {
  readonly labelSelector?: string;
  readonly fieldSelector?: string;
  readonly limit?: number;
  readonly continue?: string;
  readonly resourceVersion?: string;
}

/**
 * A small typed client over the Kubernetes REST API: rate-limited on the client side (qps/burst),
 * every request counted by verb, resource and code with its latency, status written through the
 * status subresource, and objects sent exactly as given.
 */
export class KubeClient {
  readonly kubeConfig: KubeConfig;
  readonly fieldManager: string;
  readonly #bucket: TokenBucket;
  readonly #metrics: RuntimeMetrics | undefined;
  readonly #clock: Clock;
  readonly #timeoutMs: number;

  constructor(kubeConfig: KubeConfig, opts: ClientOptions = {}) {
    this.kubeConfig = kubeConfig;
    this.fieldManager = opts.fieldManager ?? "sprout";
    this.#clock = opts.clock ?? realClock;
    this.#bucket = new TokenBucket(opts.qps ?? 20, opts.burst ?? 30, () => this.#clock.now());
    this.#metrics = opts.metrics;
    this.#timeoutMs = opts.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  }

  async request<T>(verb: string, resource: string, req: RawRequest): Promise<T> {
    const wait = this.#bucket.reserve();
    if (wait > 0) await this.#clock.sleep(wait);
    const started = this.#clock.now();
    let code = "error";
    try {
      const out = await rawRequest<T>(this.kubeConfig, { timeoutMs: this.#timeoutMs, ...req });
      code = req.method === "POST" ? "201" : "200";
      return out;
    } catch (err) {
      if (err instanceof KubeApiError) code = String(err.code);
      throw err;
    } finally {
      this.#metrics?.apiRequests.inc({ verb, resource, code });
      this.#metrics?.apiLatency.observe({ verb, resource }, (this.#clock.now() - started) / 1000);
    }
  }

  /** `timeoutMs` replaces the client's request deadline for this call. */
  get<T extends KubeObject>(
    ref: ResourceRef,
    namespace: string | undefined,
    name: string,
    opts: { timeoutMs?: number } = {},
  ): Promise<T> {
    const path = resourcePath(ref, namespace, name);
    return this.request("get", ref.plural, { method: "GET", path, ...opts });
  }

  /** get(), or undefined when the object does not exist. */
  async find<T extends KubeObject>(
    ref: ResourceRef,
    namespace: string | undefined,
    name: string,
  ): Promise<T | undefined> {
    try {
      return await this.get<T>(ref, namespace, name);
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  list<T extends KubeObject>(
    ref: ResourceRef,
    namespace?: string,
    opts: ListOptions = {},
  ): Promise<ObjectList<T>> {
    const query: Record<string, string> = {};
    if (opts.labelSelector) query.labelSelector = opts.labelSelector;
    if (opts.fieldSelector) query.fieldSelector = opts.fieldSelector;
    if (opts.limit) query.limit = String(opts.limit);
    if (opts.continue) query.continue = opts.continue;
    if (opts.resourceVersion !== undefined) query.resourceVersion = opts.resourceVersion;
    return this.request("list", ref.plural, { method: "GET", path: resourcePath(ref, namespace), query });
  }

  create<T extends KubeObject>(ref: ResourceRef, obj: T): Promise<T> {
    return this.request("create", ref.plural, {
      method: "POST",
      path: resourcePath(ref, obj.metadata?.namespace),
      body: obj,
      query: { fieldManager: this.fieldManager },
    });
  }

  /** PUT of the whole object; fails with 409 when its resourceVersion is stale. */
  update<T extends KubeObject>(ref: ResourceRef, obj: T): Promise<T> {
    return this.request("update", ref.plural, {
      method: "PUT",
      path: resourcePath(ref, obj.metadata?.namespace, obj.metadata?.name),
      body: obj,
      query: { fieldManager: this.fieldManager },
    });
  }

  /** PUT through the status subresource: only status changes. */
  updateStatus<T extends KubeObject>(ref: ResourceRef, obj: T): Promise<T> {
    return this.request("update", `${ref.plural}/status`, {
      method: "PUT",
      path: resourcePath(ref, obj.metadata?.namespace, obj.metadata?.name, "status"),
      body: obj,
      query: { fieldManager: this.fieldManager },
    });
  }

  patch<T extends KubeObject>(
    ref: ResourceRef,
    namespace: string | undefined,
    name: string,
    patch: unknown,
    type: PatchType = "merge",
    subresource?: "status" | "scale",
  ): Promise<T> {
    const query: Record<string, string> = { fieldManager: this.fieldManager };
    if (type === "apply") query.force = "true";
    return this.request("patch", subresource ? `${ref.plural}/${subresource}` : ref.plural, {
      method: "PATCH",
      path: resourcePath(ref, namespace, name, subresource),
      body: patch,
      contentType: PATCH_CONTENT_TYPES[type],
      query,
    });
  }

  /** Deletes an object; a missing object is not an error. */
  async delete(
    ref: ResourceRef,
    namespace: string | undefined,
    name: string,
    opts: {
      propagationPolicy?: "Foreground" | "Background" | "Orphan";
      gracePeriodSeconds?: number;
      uid?: string;
    } = {},
  ): Promise<void> {
    const body: Record<string, unknown> = { apiVersion: "v1", kind: "DeleteOptions" };
    if (opts.propagationPolicy) body.propagationPolicy = opts.propagationPolicy;
    if (opts.gracePeriodSeconds !== undefined) body.gracePeriodSeconds = opts.gracePeriodSeconds;
    if (opts.uid) body.preconditions = { uid: opts.uid };
    try {
      await this.request("delete", ref.plural, {
        method: "DELETE",
        path: resourcePath(ref, namespace, name),
        body,
      });
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }

  /** Streams watch events of a resource from a resourceVersion (see rawWatch). */
  watch<T extends KubeObject>(
    ref: ResourceRef,
    namespace: string | undefined,
    query: Record<string, string>,
    onEvent: (event: WatchEvent<T>) => void,
    opts: { signal?: AbortSignal; idleTimeoutMs?: number } = {},
  ): Promise<void> {
    this.#metrics?.apiRequests.inc({ verb: "watch", resource: ref.plural, code: "200" });
    return rawWatch<T>(this.kubeConfig, resourcePath(ref, namespace), query, onEvent, opts);
  }
}

export function isNotFound(err: unknown): boolean {
  return err instanceof KubeApiError && err.code === 404;
}

export function isConflict(err: unknown): boolean {
  return err instanceof KubeApiError && err.code === 409;
}

/**
 * Runs fn again when it fails with a conflict (a stale resourceVersion), up to `attempts` times,
 * waiting a little longer each time. fn must re-read what it writes.
 */
export async function retryOnConflict<T>(
  fn: () => Promise<T>,
  attempts = 5,
  clock: Clock = realClock,
): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await fn();
    } catch (err) {
      if (!isConflict(err) || i >= attempts) throw err;
      await clock.sleep(10 * 2 ** i);
    }
  }
}
