import { MachineResources } from "../../api/resources.ts";
import type { Machine, MachineStatus } from "../../api/v1alpha1/machine.ts";
import type { KubeClient } from "../../runtime/client/client.ts";
import { mergePatch } from "../../runtime/client/patch.ts";

/** Writes status through the status subresource when it changed; returns the machine as written. */
export async function writeStatus(
  client: KubeClient,
  machine: Machine,
  status: MachineStatus,
): Promise<Machine> {
  const patch = mergePatch({ status: machine.status ?? {} }, { status });
  if (patch === undefined) return machine;
  const meta = machine.metadata ?? {};
  return client.patch<Machine>(
    MachineResources.machines,
    meta.namespace,
    meta.name ?? "",
    patch,
    "merge",
    "status",
  );
}

/**
 * Patches metadata and spec (labels, annotations, finalizers, providerID) with the object's
 * resourceVersion, so a concurrent change makes it fail (409) and the reconcile starts over.
 */
export async function writeObject(client: KubeClient, before: Machine, after: Machine): Promise<Machine> {
  const patch = mergePatch(
    { metadata: before.metadata, spec: before.spec },
    { metadata: after.metadata, spec: after.spec },
  ) as { metadata?: Record<string, unknown> } | undefined;
  if (patch === undefined) return before;
  patch.metadata = { ...patch.metadata, resourceVersion: before.metadata?.resourceVersion };
  const meta = before.metadata ?? {};
  return client.patch<Machine>(MachineResources.machines, meta.namespace, meta.name ?? "", patch);
}
