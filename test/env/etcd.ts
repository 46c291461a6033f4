import { randomUUID } from "node:crypto";
import { inject } from "vitest";
import { httpCall } from "../../src/localplane/http.ts";
import type { ResourceRef } from "../../src/runtime/client/resources.ts";

/**
 * Writes a namespaced custom object straight into etcd, the way an object stored before the CRD's
 * validation tightened (or by an older schema) lies there: the apiserver serves and watches it,
 * but admission never saw it. Tests of the controllers' own guards use it, because the CRDs of
 * this run reject such objects and the CRDs are shared by every test file running in parallel.
 * Writing again with the same name replaces the object (its generation as given).
 */
export async function storeUnchecked(
  ref: ResourceRef,
  obj: {
    metadata: { name: string; namespace: string; uid?: string; generation?: number } & Record<
      string,
      unknown
    >;
  } & Record<string, unknown>,
): Promise<string> {
  const { name, namespace } = obj.metadata;
  const uid = obj.metadata.uid ?? randomUUID();
  const stored = {
    apiVersion: `${ref.group}/${ref.version}`,
    kind: ref.kind,
    ...obj,
    metadata: {
      creationTimestamp: new Date().toISOString().replace(/\.\d+Z$/, "Z"),
      generation: 1,
      ...obj.metadata,
      uid,
    },
  };
  const key = `/registry/${ref.group}/${ref.plural}/${namespace}/${name}`;
  const res = await httpCall(`${inject("etcdEndpoint")}/v3/kv/put`, {
    method: "POST",
    body: JSON.stringify({
      key: Buffer.from(key).toString("base64"),
      value: Buffer.from(JSON.stringify(stored)).toString("base64"),
    }),
  });
  if (res.status !== 200) throw new Error(`etcd put ${key} failed: ${res.status} ${res.body}`);
  return uid;
}
