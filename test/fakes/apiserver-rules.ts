import type { KubeObject } from "../../src/runtime/client/client.ts";
import { KubeApiError } from "../../src/runtime/client/raw.ts";
import type { ResourceRef } from "../../src/runtime/client/resources.ts";

/** What the in-memory apiserver reproduces of the real one's rules, apart from its storage. */

export type Meta = NonNullable<KubeObject["metadata"]> & {
  finalizers?: string[];
  deletionTimestamp?: string;
  creationTimestamp?: string;
  generation?: number;
  generateName?: string;
  labels?: Record<string, string>;
};

const clone = <T>(v: T): T => structuredClone(v);
export const qualified = (ref: ResourceRef): string =>
  ref.group ? `${ref.plural}.${ref.group}` : ref.plural;
export const stamp = (ms: number): string => new Date(ms).toISOString().replace(/\.\d+Z$/, "Z");

/** Kinds whose status only the status subresource writes; custom resources also drop it on create. */
export const hasStatusSubresource = (ref: ResourceRef): boolean =>
  ref.group === "machine.sapcloud.io" || ["nodes", "pods", "persistentvolumeclaims"].includes(ref.plural);

/**
 * The object with the fields the server sets on create (uid, creationTimestamp, generation,
 * apiVersion, kind; a name from generateName). A seeded object keeps those it has, and its status.
 */
export function withServerFields(
  ref: ResourceRef,
  obj: KubeObject,
  seeded: boolean,
  nextId: () => number,
  now: number,
): KubeObject {
  const meta: Meta = { ...(obj.metadata as Meta | undefined) };
  if (!meta.name && meta.generateName)
    meta.name = `${meta.generateName}${nextId().toString(36).padStart(5, "0")}`;
  if (!meta.name) {
    throw apiError(
      422,
      "Invalid",
      `${ref.kind} "" is invalid: metadata.name: Required value: name or generateName is required`,
    );
  }
  if (!ref.namespaced) delete meta.namespace;
  else if (!meta.namespace) {
    throw apiError(
      422,
      "Invalid",
      `${ref.kind} "${meta.name}" is invalid: metadata.namespace: Required value`,
    );
  }
  const keep = <K extends keyof Meta>(k: K): Meta[K] | undefined => (seeded ? meta[k] : undefined);
  meta.uid = keep("uid") ?? `00000000-0000-4000-8000-${nextId().toString(16).padStart(12, "0")}`;
  meta.creationTimestamp = keep("creationTimestamp") ?? stamp(now);
  meta.generation = keep("generation") ?? 1;
  if (!seeded) delete meta.deletionTimestamp;
  const out: KubeObject = {
    ...obj,
    apiVersion: ref.group ? `${ref.group}/${ref.version}` : ref.version,
    kind: ref.kind,
    metadata: meta,
  };
  if (!seeded && ref.group === "machine.sapcloud.io") delete out.status;
  return withStringData(ref, out);
}

/** A Secret's stringData is merged into data (base64) and never stored. */
export function withStringData(ref: ResourceRef, obj: KubeObject): KubeObject {
  if (ref.group !== "" || ref.plural !== "secrets" || !obj.stringData) return obj;
  const { stringData, ...rest } = obj as KubeObject & { stringData: Record<string, string> };
  const data = { ...(rest.data as Record<string, string> | undefined) };
  for (const [k, v] of Object.entries(stringData)) data[k] = Buffer.from(v).toString("base64");
  return { ...rest, data };
}

/** metadata fields a write cannot change. */
export function fixed(meta: Meta): Partial<Meta> {
  const out: Partial<Meta> = {};
  if (meta.uid !== undefined) out.uid = meta.uid;
  if (meta.creationTimestamp !== undefined) out.creationTimestamp = meta.creationTimestamp;
  if (meta.deletionTimestamp) out.deletionTimestamp = meta.deletionTimestamp;
  if (meta.generation !== undefined) out.generation = meta.generation;
  return out;
}

export function withoutMetaStatus(obj: KubeObject): KubeObject {
  const rest = { ...obj };
  delete rest.metadata;
  delete rest.status;
  return rest;
}

/** RFC 7386: null removes a field, objects merge, everything else replaces. */
export function applyMergePatch(target: unknown, patch: unknown): unknown {
  if (typeof patch !== "object" || patch === null || Array.isArray(patch)) return clone(patch);
  const base =
    typeof target === "object" && target !== null && !Array.isArray(target)
      ? { ...(target as Record<string, unknown>) }
      : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) Reflect.deleteProperty(base, k);
    else base[k] = applyMergePatch(base[k], v);
  }
  return base;
}

export function apiError(code: number, reason: string, message: string): KubeApiError {
  return new KubeApiError(code, {
    kind: "Status",
    apiVersion: "v1",
    status: "Failure",
    message,
    reason,
    code,
  });
}
