import { KubeConfig } from "@kubernetes/client-node";
import { type Clock, realClock } from "../../src/runtime/clock.ts";
import {
  KubeClient,
  type KubeObject,
  type ListOptions,
  type ObjectList,
  type PatchType,
} from "../../src/runtime/client/client.ts";
import type { RawRequest, WatchEvent } from "../../src/runtime/client/raw.ts";
import type { ResourceRef } from "../../src/runtime/client/resources.ts";
import {
  apiError,
  applyMergePatch,
  fixed,
  hasStatusSubresource,
  type Meta,
  qualified,
  stamp,
  withoutMetaStatus,
  withServerFields,
  withStringData,
} from "./apiserver-rules.ts";
import { fieldMatcher, labelMatcher } from "./selectors.ts";

/** One write the client accepted (creates, updates, patches, deletes, evictions). */
export interface Write {
  readonly verb: "create" | "update" | "patch" | "delete" | "evict";
  readonly resource: string;
  readonly namespace: string | undefined;
  readonly name: string;
  readonly subresource?: "status";
  readonly body?: unknown;
}

interface Stored {
  readonly ref: ResourceRef;
  obj: KubeObject;
}

interface Watcher {
  readonly kind: string;
  readonly namespace: string | undefined;
  readonly matches: (obj: KubeObject) => boolean;
  readonly onEvent: (event: WatchEvent<KubeObject>) => void;
}

const clone = <T>(v: T): T => structuredClone(v);
const kindKey = (ref: ResourceRef): string => `${ref.group}/${ref.plural}`;
/**
 * An apiserver in memory behind KubeClient's interface, for unit tests: create, get, list (label
 * and field selectors, pages), update and merge patch with resourceVersion preconditions, the
 * status subresource, deletion with finalizers and a uid precondition, watch from a
 * resourceVersion, and evictions. Errors are the apiserver's (NotFound, AlreadyExists, Conflict).
 * test/integration/memory-client.test.ts runs the same cases against a real apiserver. Every
 * accepted write is kept in `writes`.
 */
export class MemoryClient extends KubeClient {
  readonly writes: Write[] = [];
  /** While true every request fails as if the apiserver could not be reached (watches stay quiet). */
  down = false;
  readonly #objects = new Map<string, Stored>();
  readonly #log: { rv: number; kind: string; event: WatchEvent<KubeObject> }[] = [];
  readonly #watchers = new Set<Watcher>();
  readonly #clock: Clock;
  #rv = 1000;
  #uid = 0;

  constructor(opts: { name?: string; clock?: Clock } = {}) {
    const kc = new KubeConfig();
    const name = opts.name ?? "memory";
    kc.loadFromOptions({
      clusters: [{ name, server: `https://${name}.memory.invalid`, skipTLSVerify: true }],
      users: [{ name }],
      contexts: [{ name, cluster: name, user: name }],
      currentContext: name,
    });
    super(kc);
    this.#clock = opts.clock ?? realClock;
  }

  /** Stores objects as given (status included), as if they had been there before the test. */
  seed(ref: ResourceRef, ...objs: KubeObject[]): void {
    for (const obj of objs) this.#store(ref, this.#fresh(ref, clone(obj), true), "ADDED");
  }

  /** The stored object, or undefined; no request is counted. */
  peek(ref: ResourceRef, namespace: string | undefined, name: string): KubeObject | undefined {
    const s = this.#objects.get(this.#key(ref, namespace, name));
    return s && clone(s.obj);
  }

  /** Every stored object of a resource. */
  all<T extends KubeObject>(ref: ResourceRef, namespace?: string): T[] {
    return [...this.#objects.values()]
      .filter(
        (s) => kindKey(s.ref) === kindKey(ref) && (!namespace || s.obj.metadata?.namespace === namespace),
      )
      .map((s) => clone(s.obj) as T);
  }

  override request<T>(_verb: string, _resource: string, req: RawRequest): Promise<T> {
    const m = /\/namespaces\/([^/]+)\/pods\/([^/]+)\/eviction$/.exec(req.path);
    if (req.method !== "POST" || !m)
      throw new Error(`MemoryClient has no route for ${req.method} ${req.path}`);
    const [, ns = "", name = ""] = m;
    const pods: ResourceRef = { group: "", version: "v1", plural: "pods", kind: "Pod", namespaced: true };
    this.#existing(pods, ns, name);
    this.writes.push({ verb: "evict", resource: "pods", namespace: ns, name });
    this.#remove(pods, ns, name);
    return Promise.resolve({ kind: "Status", status: "Success" } as T);
  }

  override get<T extends KubeObject>(
    ref: ResourceRef,
    namespace: string | undefined,
    name: string,
  ): Promise<T> {
    return this.#async(() => clone(this.#existing(ref, namespace, name).obj) as T);
  }

  override list<T extends KubeObject>(
    ref: ResourceRef,
    namespace?: string,
    opts: ListOptions = {},
  ): Promise<ObjectList<T>> {
    return this.#async(() => {
      const labels = labelMatcher(opts.labelSelector);
      const fields = fieldMatcher(opts.fieldSelector);
      const all = this.all<T>(ref, ref.namespaced ? namespace : undefined)
        .filter((o) => labels((o.metadata as Meta | undefined)?.labels ?? {}) && fields(o))
        .sort((a, b) => this.#keyOf(ref, a).localeCompare(this.#keyOf(ref, b)));
      const from = Number(opts.continue ?? 0);
      const to = opts.limit ? from + opts.limit : all.length;
      return {
        items: all.slice(from, to),
        metadata: { resourceVersion: String(this.#rv), ...(to < all.length ? { continue: String(to) } : {}) },
      };
    });
  }

  override create<T extends KubeObject>(ref: ResourceRef, obj: T): Promise<T> {
    return this.#async(() => {
      const fresh = this.#fresh(ref, clone(obj), false);
      const meta = fresh.metadata as Meta;
      const key = this.#key(ref, meta.namespace, meta.name ?? "");
      if (this.#objects.has(key)) {
        throw apiError(409, "AlreadyExists", `${qualified(ref)} "${meta.name}" already exists`);
      }
      this.writes.push({
        verb: "create",
        resource: ref.plural,
        namespace: meta.namespace,
        name: meta.name ?? "",
        body: obj,
      });
      return clone(this.#store(ref, fresh, "ADDED")) as T;
    });
  }

  override update<T extends KubeObject>(ref: ResourceRef, obj: T): Promise<T> {
    const meta = obj.metadata;
    return this.#write("update", ref, meta?.namespace, meta?.name ?? "", undefined, obj, () => clone(obj));
  }

  override updateStatus<T extends KubeObject>(ref: ResourceRef, obj: T): Promise<T> {
    const meta = obj.metadata;
    return this.#write("update", ref, meta?.namespace, meta?.name ?? "", "status", obj, () => clone(obj));
  }

  override patch<T extends KubeObject>(
    ref: ResourceRef,
    namespace: string | undefined,
    name: string,
    patch: unknown,
    type: PatchType = "merge",
    subresource?: "status" | "scale",
  ): Promise<T> {
    if (type !== "merge" || subresource === "scale") {
      throw new Error(`MemoryClient patches only with merge patches, not ${type} ${subresource ?? ""}`);
    }
    return this.#write(
      "patch",
      ref,
      namespace,
      name,
      subresource,
      patch,
      (old) => applyMergePatch(old, patch) as KubeObject,
    );
  }

  override delete(
    ref: ResourceRef,
    namespace: string | undefined,
    name: string,
    opts: { uid?: string } = {},
  ): Promise<void> {
    return this.#async(() => {
      const s = this.#objects.get(this.#key(ref, namespace, name));
      if (!s) return;
      const meta = s.obj.metadata as Meta;
      if (opts.uid && opts.uid !== meta.uid) {
        throw apiError(
          409,
          "Conflict",
          `Precondition failed: UID in precondition: ${opts.uid}, UID in object meta: ${meta.uid}`,
        );
      }
      this.writes.push({ verb: "delete", resource: ref.plural, namespace, name });
      if (!meta.finalizers?.length) {
        this.#remove(ref, namespace, name);
        return;
      }
      if (meta.deletionTimestamp) return;
      const next = clone(s.obj);
      Object.assign(next.metadata as Meta, {
        deletionTimestamp: stamp(this.#clock.now()),
        deletionGracePeriodSeconds: 0,
      });
      this.#store(ref, next, "MODIFIED");
    });
  }

  override watch<T extends KubeObject>(
    ref: ResourceRef,
    namespace: string | undefined,
    query: Record<string, string>,
    onEvent: (event: WatchEvent<T>) => void,
    opts: { signal?: AbortSignal } = {},
  ): Promise<void> {
    const labels = labelMatcher(query.labelSelector);
    const fields = fieldMatcher(query.fieldSelector);
    const watcher: Watcher = {
      kind: kindKey(ref),
      namespace: ref.namespaced ? namespace : undefined,
      matches: (o) => labels((o.metadata as Meta | undefined)?.labels ?? {}) && fields(o),
      onEvent: onEvent as (event: WatchEvent<KubeObject>) => void,
    };
    const from = Number(query.resourceVersion || 0);
    if (!query.resourceVersion) {
      for (const obj of this.all(ref, watcher.namespace))
        if (watcher.matches(obj)) watcher.onEvent({ type: "ADDED", object: obj });
    } else {
      for (const e of this.#log) if (e.rv > from) this.#deliver(watcher, e.kind, e.event);
    }
    this.#watchers.add(watcher);
    return new Promise((resolve) => {
      const stop = (): void => {
        this.#watchers.delete(watcher);
        resolve();
      };
      if (opts.signal?.aborted) stop();
      opts.signal?.addEventListener("abort", stop, { once: true });
    });
  }

  #write<T extends KubeObject>(
    verb: "update" | "patch",
    ref: ResourceRef,
    namespace: string | undefined,
    name: string,
    subresource: "status" | undefined,
    body: unknown,
    change: (old: KubeObject) => KubeObject,
  ): Promise<T> {
    return this.#async(() => {
      const old = this.#existing(ref, namespace, name).obj;
      const next = withStringData(ref, change(clone(old)));
      const meta = next.metadata as Meta;
      const wanted = meta.resourceVersion;
      if (wanted && wanted !== old.metadata?.resourceVersion) {
        throw apiError(
          409,
          "Conflict",
          `Operation cannot be fulfilled on ${qualified(ref)} "${name}": the object has been modified; please apply your changes to the latest version and try again`,
        );
      }
      let kept: KubeObject;
      if (subresource === "status") {
        kept = { ...clone(old), status: next.status };
        if (next.status === undefined) delete kept.status;
      } else {
        kept = { ...next, metadata: { ...meta, ...fixed(old.metadata as Meta) } };
        if (hasStatusSubresource(ref)) kept.status = old.status;
        if (kept.status === undefined) delete kept.status;
        if (JSON.stringify(withoutMetaStatus(old)) !== JSON.stringify(withoutMetaStatus(kept))) {
          (kept.metadata as Meta).generation = ((old.metadata as Meta).generation ?? 0) + 1;
        }
      }
      this.writes.push({
        verb,
        resource: ref.plural,
        namespace,
        name,
        ...(subresource ? { subresource } : {}),
        body,
      });
      if (JSON.stringify(kept) === JSON.stringify(old)) return clone(old) as T;
      const km = kept.metadata as Meta;
      if (km.deletionTimestamp && !km.finalizers?.length) {
        this.#remove(ref, namespace, name);
        return clone(kept) as T;
      }
      return clone(this.#store(ref, kept, "MODIFIED")) as T;
    });
  }

  /** Server-set fields: an object written from the outside arrives with them (seeded) or without. */
  #fresh(ref: ResourceRef, obj: KubeObject, seeded: boolean): KubeObject {
    return withServerFields(ref, obj, seeded, () => ++this.#uid, this.#clock.now());
  }

  #store(ref: ResourceRef, obj: KubeObject, type: "ADDED" | "MODIFIED"): KubeObject {
    const rv = ++this.#rv;
    (obj.metadata as Meta).resourceVersion = String(rv);
    this.#objects.set(this.#keyOf(ref, obj), { ref, obj });
    this.#emit(rv, ref, { type, object: clone(obj) });
    return obj;
  }

  #remove(ref: ResourceRef, namespace: string | undefined, name: string): void {
    const key = this.#key(ref, namespace, name);
    const s = this.#objects.get(key);
    if (!s) return;
    this.#objects.delete(key);
    const rv = ++this.#rv;
    const object = clone(s.obj);
    (object.metadata as Meta).resourceVersion = String(rv);
    this.#emit(rv, ref, { type: "DELETED", object });
  }

  #emit(rv: number, ref: ResourceRef, event: WatchEvent<KubeObject>): void {
    const kind = kindKey(ref);
    this.#log.push({ rv, kind, event });
    for (const w of this.#watchers) this.#deliver(w, kind, event);
  }

  #deliver(w: Watcher, kind: string, event: WatchEvent<KubeObject>): void {
    if (w.kind !== kind) return;
    if (w.namespace && event.object.metadata?.namespace !== w.namespace) return;
    if (!w.matches(event.object)) return;
    const object = clone(event.object);
    queueMicrotask(() => w.onEvent({ type: event.type, object }));
  }

  #existing(ref: ResourceRef, namespace: string | undefined, name: string): Stored {
    const s = this.#objects.get(this.#key(ref, namespace, name));
    if (!s) throw apiError(404, "NotFound", `${qualified(ref)} "${name}" not found`);
    return s;
  }

  #key(ref: ResourceRef, namespace: string | undefined, name: string): string {
    return `${kindKey(ref)}|${ref.namespaced ? (namespace ?? "") : ""}|${name}`;
  }

  #keyOf(ref: ResourceRef, obj: KubeObject): string {
    return this.#key(ref, obj.metadata?.namespace, obj.metadata?.name ?? "");
  }

  /** Answers asynchronously (on a microtask: settle() in src/runtime/clock.ts waits for all of them). */
  #async<T>(fn: () => T): Promise<T> {
    return Promise.resolve().then(() => {
      if (this.down)
        throw new Error(`connect ECONNREFUSED ${this.kubeConfig.getCurrentCluster()?.server ?? ""}`);
      return fn();
    });
  }
}
