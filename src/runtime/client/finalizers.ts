import type { KubeClient, KubeObject } from "./client.ts";
import type { ResourceRef } from "./resources.ts";

interface WithFinalizers {
  metadata?: KubeObject["metadata"] & { finalizers?: string[] };
}

/** Adds `finalizer` (guarded by resourceVersion); returns the object as written. */
export async function ensureFinalizer<T extends KubeObject & WithFinalizers>(
  client: KubeClient,
  ref: ResourceRef,
  obj: T,
  finalizer: string,
): Promise<T> {
  const meta = obj.metadata ?? {};
  if (meta.finalizers?.includes(finalizer)) return obj;
  const finalizers = [...(meta.finalizers ?? []), finalizer];
  return client.patch<T>(ref, meta.namespace, meta.name ?? "", {
    metadata: { finalizers, resourceVersion: meta.resourceVersion },
  });
}

/** Removes `finalizer` (guarded by resourceVersion). */
export async function removeFinalizer(
  client: KubeClient,
  ref: ResourceRef,
  obj: WithFinalizers,
  finalizer: string,
): Promise<void> {
  const meta = obj.metadata ?? {};
  if (!meta.finalizers?.includes(finalizer)) return;
  const finalizers = meta.finalizers.filter((f) => f !== finalizer);
  await client.patch(ref, meta.namespace, meta.name ?? "", {
    metadata: { finalizers, resourceVersion: meta.resourceVersion },
  });
}
