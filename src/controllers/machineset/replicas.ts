import { controllerRefTo } from "../../runtime/meta/owners.ts";
import { mapLimit } from "../../runtime/meta/map-limit.ts";
import { phaseOf } from "../../api/machine-state.ts";
import {
  API_VERSION,
  Annotations,
  BURST_REPLICAS,
  DEFAULT_MACHINE_PRIORITY,
  Finalizers,
  Labels,
  PHASE_DELETION_ORDER,
  PRESERVE_VALUES,
} from "../../api/constants.ts";
import { MachineResources } from "../../api/resources.ts";
import type { Machine } from "../../api/v1alpha1/machine.ts";
import type { MachineSet } from "../../api/v1alpha1/machineset.ts";
import type { SetDeps } from "./deps.ts";

const annotation = (m: Machine, key: string): string | undefined => m.metadata?.annotations?.[key];

const isPreserved = (m: Machine): boolean =>
  (PRESERVE_VALUES as readonly string[]).includes(annotation(m, Annotations.preserve) ?? "");

export const priorityOf = (m: Machine): number => {
  const n = Number.parseInt(annotation(m, Annotations.machinePriority) ?? "", 10);
  return Number.isFinite(n) ? n : DEFAULT_MACHINE_PRIORITY;
};

const timeOf = (text: string | undefined, missing: number): number => {
  const t = Date.parse(text ?? "");
  return Number.isNaN(t) ? missing : t;
};

/**
 * MCM's scale-down order, first to go first: not preserved before preserved, lower
 * machinepriority.machine.sapcloud.io, earlier marked-for-deletion-time, phase (Terminating, Failed,
 * CrashLoopBackOff, Unknown, Pending, Available, Running), older creationTimestamp.
 */
export function deletionOrder(a: Machine, b: Machine): number {
  return (
    Number(isPreserved(a)) - Number(isPreserved(b)) ||
    priorityOf(a) - priorityOf(b) ||
    timeOf(annotation(a, Annotations.markedForDeletionTime), Infinity) -
      timeOf(annotation(b, Annotations.markedForDeletionTime), Infinity) ||
    (PHASE_DELETION_ORDER[phaseOf(a)] ?? 0) - (PHASE_DELETION_ORDER[phaseOf(b)] ?? 0) ||
    timeOf(a.metadata?.creationTimestamp, 0) - timeOf(b.metadata?.creationTimestamp, 0) ||
    (a.metadata?.name ?? "").localeCompare(b.metadata?.name ?? "")
  );
}

/**
 * Machines deleted whatever the replica count: Failed ones that are not preserved, and those the
 * cluster-autoscaler marked (priority 1, marked at or before the set's last scaler replica change).
 */
export function staleMachines(set: MachineSet, machines: readonly Machine[]): Machine[] {
  const changed = timeOf(set.metadata?.annotations?.[Annotations.lastReplicaChangeByScaler], -Infinity);
  return machines.filter((m) => {
    if (isPreserved(m)) return false;
    if (phaseOf(m) === "Failed") return true;
    const marked = timeOf(annotation(m, Annotations.markedForDeletionTime), Infinity);
    return priorityOf(m) === 1 && marked <= changed;
  });
}

/** What a sync decided: machines to create, machines to delete. */
export interface ReplicaPlan {
  readonly create: number;
  readonly delete: readonly Machine[];
}

/** Compares the active machines with spec.replicas (Terminating machines do not count). */
export function planReplicas(set: MachineSet, active: readonly Machine[]): ReplicaPlan {
  const stale = staleMachines(set, active);
  const staleNames = new Set(stale.map((m) => m.metadata?.name));
  const keep = active.filter((m) => !staleNames.has(m.metadata?.name));
  const diff = keep.length - (set.spec?.replicas ?? 0);
  const frozen = set.metadata?.labels?.[Labels.freeze] === "True";
  const scaleUpDisabled = set.metadata?.labels?.[Labels.scaleUpDisabled] === "true";
  const create = diff < 0 && !frozen && !scaleUpDisabled ? Math.min(-diff, BURST_REPLICAS) : 0;
  const surplus = diff > 0 ? [...keep].sort(deletionOrder).slice(0, Math.min(diff, BURST_REPLICAS)) : [];
  return { create, delete: [...stale, ...surplus] };
}

/** A new Machine from the set's template. */
export function machineFor(set: MachineSet): Machine {
  const template = set.spec?.template ?? {};
  const meta = set.metadata ?? {};
  const timeout = meta.annotations?.[Annotations.effectiveCreationTimeout];
  return {
    apiVersion: API_VERSION,
    kind: "Machine",
    metadata: {
      generateName: `${meta.name ?? ""}-`,
      namespace: meta.namespace ?? "",
      labels: { ...template.metadata?.labels },
      annotations: {
        ...template.metadata?.annotations,
        ...(timeout ? { [Annotations.effectiveCreationTimeout]: timeout } : {}),
      },
      ownerReferences: [controllerRefTo(API_VERSION, "MachineSet", set)],
      // Born with the machine controller's finalizer: one write less per machine.
      finalizers: [Finalizers.machineControllerManager],
    },
    spec: {
      ...(template.spec ?? { class: { kind: "MachineClass", name: "" } }),
      ...(timeout ? { creationTimeout: timeout } : {}),
    },
  };
}

/**
 * Creates `count` machines in slow-start batches (1, 2, 4, …): a failing batch stops the rest, so
 * a quota error costs one failed call, not a hundred. Returns the names created and the first error.
 */
export async function createMachines(
  set: MachineSet,
  count: number,
  deps: SetDeps,
): Promise<{ done: string[]; error?: unknown }> {
  const created: string[] = [];
  let batch = 1;
  while (created.length < count) {
    const n = Math.min(batch, count - created.length);
    const results = await mapLimit(Array.from({ length: n }), n, () =>
      deps.client.create<Machine>(MachineResources.machines, machineFor(set)),
    );
    for (const r of results) if (r.status === "fulfilled") created.push(r.value.metadata?.name ?? "");
    const failed = results.find((r) => r.status === "rejected");
    if (failed) return { done: created, error: failed.reason };
    batch *= 2;
  }
  return { done: created };
}

/** Deletes machines, up to BURST_REPLICAS calls at once; returns the names deleted and the first error. */
export async function deleteMachines(
  machines: readonly Machine[],
  deps: SetDeps,
): Promise<{ done: string[]; error?: unknown }> {
  const results = await mapLimit(machines, BURST_REPLICAS, async (m) => {
    const meta = m.metadata ?? {};
    await deps.client.delete(MachineResources.machines, meta.namespace, meta.name ?? "", {
      ...(meta.uid ? { uid: meta.uid } : {}),
    });
    return meta.name ?? "";
  });
  const deleted = results.flatMap((r) => (r.status === "fulfilled" ? [r.value] : []));
  const failed = results.find((r) => r.status === "rejected");
  return failed ? { done: deleted, error: failed.reason } : { done: deleted };
}
