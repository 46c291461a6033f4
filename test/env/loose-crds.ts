import type { KubeConfig } from "@kubernetes/client-node";
import { crdFor, type JsonSchema, KINDS } from "../../src/api/crd.ts";
import { installCrds } from "../../src/cli/install-crds.ts";
import { KubeClient } from "../../src/runtime/client/client.ts";
import type { ResourceRef } from "../../src/runtime/client/resources.ts";
import { eventually } from "./index.ts";

const crdResource: ResourceRef = {
  group: "apiextensions.k8s.io",
  version: "v1",
  plural: "customresourcedefinitions",
  kind: "CustomResourceDefinition",
  namespaced: false,
};

/** Schema keys that admission enforces; a loose CRD drops them all. */
const RULES = new Set([
  "x-kubernetes-validations",
  "required",
  "enum",
  "pattern",
  "minimum",
  "minLength",
  "maxLength",
  "maxItems",
  "maxProperties",
]);

function loosen(value: unknown, keepRequired = false): unknown {
  if (Array.isArray(value)) return value.map((v) => loosen(v));
  if (value === null || typeof value !== "object") return value;
  const o = value as JsonSchema;
  // The keys of a list-map must stay required: the apiserver refuses the CRD otherwise.
  const listMap = "x-kubernetes-list-map-keys" in o;
  return Object.fromEntries(
    Object.entries(o)
      .filter(([k]) => !RULES.has(k) || (k === "required" && keepRequired))
      .map(([k, v]) => [k, k === "items" ? loosen(v, listMap) : loosen(v)]),
  );
}

/**
 * Stores objects the way they look when they were created before the CRD tightened (the apiserver
 * never revalidates stored objects): applies a copy of the kind's CRD without any admission rule,
 * creates the objects, and applies sprout's CRDs again. Use it on a control plane of its own: other
 * files sharing a plane would see the loose CRD meanwhile.
 */
export async function storeLoosely<T>(kc: KubeConfig, kind: string, create: () => Promise<T>): Promise<T> {
  const def = KINDS.find((k) => k.kind === kind);
  if (!def) throw new Error(`unknown kind ${kind}`);
  const client = new KubeClient(kc);
  const crd = crdFor(def);
  await client.patch(crdResource, undefined, (crd.metadata as { name: string }).name, loosen(crd), "apply");
  try {
    // The apiserver takes the new schema a moment after the write: retry until it admits the object.
    return await eventually(create, { timeoutMs: 30_000, intervalMs: 100 });
  } finally {
    await installCrds(kc);
  }
}
