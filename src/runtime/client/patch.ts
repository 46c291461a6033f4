import type { KubeClient, KubeObject } from "./client.ts";
import type { ResourceRef } from "./resources.ts";

/**
 * RFC 7386 JSON merge patch that turns `before` into `after`: only changed fields, null for removed
 * ones, arrays replaced whole. Returns undefined when nothing changed, so callers skip the write.
 */
export function mergePatch(before: unknown, after: unknown): unknown {
  if (!isPlainObject(before) || !isPlainObject(after)) {
    return deepEqual(before, after) ? undefined : after;
  }
  const patch: Record<string, unknown> = {};
  for (const key of Object.keys(before)) {
    if (!(key in after) || after[key] === undefined) {
      if (before[key] !== undefined) patch[key] = null;
    }
  }
  for (const [key, value] of Object.entries(after)) {
    if (value === undefined) continue;
    const sub = key in before ? mergePatch(before[key], value) : value;
    if (sub !== undefined) patch[key] = sub;
  }
  return Object.keys(patch).length === 0 ? undefined : patch;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b))
    return a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
  if (isPlainObject(a) && isPlainObject(b)) {
    const ka = Object.keys(a).filter((k) => a[k] !== undefined);
    const kb = Object.keys(b).filter((k) => b[k] !== undefined);
    return ka.length === kb.length && ka.every((k) => deepEqual(a[k], b[k]));
  }
  return false;
}

/** Metadata fields the apiserver owns: never part of a patch. */
const SERVER_METADATA = new Set([
  "resourceVersion",
  "uid",
  "generation",
  "creationTimestamp",
  "deletionTimestamp",
  "deletionGracePeriodSeconds",
  "managedFields",
  "selfLink",
]);

/** Written through the status subresource, or not written at all. */
const TOP_LEVEL_SKIPPED = new Set(["status", "apiVersion", "kind", "metadata"]);

/** The two merge patches that turn `before` into `after`: everything but status, and status. */
export function objectPatches(
  before: KubeObject,
  after: KubeObject,
): { object: Record<string, unknown> | undefined; status: unknown } {
  const body = (o: KubeObject): Record<string, unknown> => {
    const rest: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(o)) if (!TOP_LEVEL_SKIPPED.has(k)) rest[k] = v;
    const metadata = Object.fromEntries(
      Object.entries(o.metadata ?? {}).filter(([k]) => !SERVER_METADATA.has(k)),
    );
    return { ...rest, metadata };
  };
  const object = mergePatch(body(before), body(after)) as Record<string, unknown> | undefined;
  const status = mergePatch({ status: before.status ?? {} }, { status: after.status ?? {} });
  return { object, status };
}

export interface PatchOptions {
  /**
   * Default true. False for a controller writing only fields it alone owns on another controller's
   * object (a MachineSet passing its template down to its machines), where the other's frequent
   * writes would otherwise make every patch conflict.
   */
  readonly optimisticLock?: boolean;
  /**
   * Told every resourceVersion a write of this call replaced: the one read, and the one between the
   * object's write and its status write. A cache showing one of them lags behind this write.
   */
  readonly superseded?: (resourceVersion: string | undefined) => void;
}

/**
 * Writes an object the way cluster-api's patch.Helper does: the changes to metadata and spec (and
 * any other field but status) as one merge patch guarded by the resourceVersion read, so a
 * concurrent change fails with 409 and the reconcile starts over on fresh data; then the changes to
 * status through the status subresource; nothing at all when nothing changed. Returns the object
 * as last written (or `before` when nothing was).
 */
export async function patchObject<T extends KubeObject>(
  client: KubeClient,
  ref: ResourceRef,
  before: T,
  after: T,
  opts: PatchOptions = {},
): Promise<T> {
  const { object, status } = objectPatches(before, after);
  const meta = before.metadata ?? {};
  const name = meta.name ?? "";
  let written = before;
  if (object !== undefined) {
    const rv = opts.optimisticLock === false ? {} : { resourceVersion: meta.resourceVersion };
    const guarded = { ...object, metadata: { ...(object.metadata ?? {}), ...rv } };
    written = await client.patch<T>(ref, meta.namespace, name, guarded);
    opts.superseded?.(meta.resourceVersion);
  }
  if (status !== undefined) {
    const replaced = written.metadata?.resourceVersion;
    written = await client.patch<T>(ref, meta.namespace, name, status, "merge", "status");
    opts.superseded?.(replaced);
  }
  return written;
}

/**
 * One object through one reconcile: `current` is what was read (then what was last written), and
 * patch(draft) writes the draft's changes with patchObject. Deletion steps call it per step, so a
 * killed controller resumes at the step it reached; everything else calls it once, at the end.
 */
export class PatchHelper<T extends KubeObject> {
  readonly #client: KubeClient;
  readonly #ref: ResourceRef;
  #current: T;

  constructor(client: KubeClient, ref: ResourceRef, read: T) {
    this.#client = client;
    this.#ref = ref;
    this.#current = read;
  }

  /** The object as read, or as last written. */
  get current(): T {
    return this.#current;
  }

  /** Writes what changed from `current` to `draft`; returns (and remembers) the object as written. */
  async patch(draft: T): Promise<T> {
    this.#current = await patchObject(this.#client, this.#ref, this.#current, draft);
    return this.#current;
  }
}

interface WithFinalizers {
  metadata?: KubeObject["metadata"] & { finalizers?: string[] };
}

/** The object with `finalizer` added (itself when it has it). */
export function withFinalizer<T extends WithFinalizers>(obj: T, finalizer: string): T {
  const meta = obj.metadata ?? {};
  if (meta.finalizers?.includes(finalizer)) return obj;
  return { ...obj, metadata: { ...meta, finalizers: [...(meta.finalizers ?? []), finalizer] } };
}

/** The object without `finalizer` (itself when it does not have it). */
export function withoutFinalizer<T extends WithFinalizers>(obj: T, finalizer: string): T {
  const meta = obj.metadata ?? {};
  if (!meta.finalizers?.includes(finalizer)) return obj;
  return { ...obj, metadata: { ...meta, finalizers: meta.finalizers.filter((f) => f !== finalizer) } };
}
