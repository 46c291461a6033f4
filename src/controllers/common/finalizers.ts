import { Finalizers } from "../../api/constants.ts";
import type { ObjectMeta } from "../../api/v1alpha1/object.ts";
import type { KubeClient, KubeObject } from "../../runtime/client/client.ts";
import type { ResourceRef } from "../../runtime/client/resources.ts";

interface WithMeta {
  metadata?: ObjectMeta;
}

const FINALIZER = Finalizers.machineControllerManager;

/** Adds machine.sapcloud.io/machine-controller-manager (guarded by resourceVersion); returns the object as written. */
export async function ensureFinalizer<T extends KubeObject & WithMeta>(
  client: KubeClient,
  ref: ResourceRef,
  obj: T,
): Promise<T> {
  const meta = obj.metadata ?? {};
  if (meta.finalizers?.includes(FINALIZER)) return obj;
  const finalizers = [...(meta.finalizers ?? []), FINALIZER];
  return client.patch<T>(ref, meta.namespace, meta.name ?? "", {
    metadata: { finalizers, resourceVersion: meta.resourceVersion },
  });
}

/** Removes machine.sapcloud.io/machine-controller-manager (guarded by resourceVersion). */
export async function removeFinalizer(client: KubeClient, ref: ResourceRef, obj: WithMeta): Promise<void> {
  const meta = obj.metadata ?? {};
  if (!meta.finalizers?.includes(FINALIZER)) return;
  const finalizers = meta.finalizers.filter((f) => f !== FINALIZER);
  await client.patch(ref, meta.namespace, meta.name ?? "", {
    metadata: { finalizers, resourceVersion: meta.resourceVersion },
  });
}
