import { readinessOf } from "../../api/machine-state.ts";
import { upsertCondition } from "../../api/conditions.ts";
import { Annotations, type MachineSetConditions, PRESERVE_VALUES } from "../../api/constants.ts";
import type { Machine } from "../../api/v1alpha1/machine.ts";
import type { MachineSet } from "../../api/v1alpha1/machineset.ts";
import { selectorString } from "../../runtime/selector.ts";

type SetStatus = NonNullable<MachineSet["status"]>;
type SetCondition = NonNullable<SetStatus["machineSetCondition"]>[number];

/** A failed create or delete of this sync, for the ReplicaFailure condition. */
export interface ReplicaFailure {
  readonly reason: (typeof MachineSetConditions.reasons)[keyof typeof MachineSetConditions.reasons];
  readonly message: string;
}

const labelsMatch = (template: Record<string, string> | undefined, m: Machine): boolean =>
  Object.entries(template ?? {}).every(([k, v]) => m.metadata?.labels?.[k] === v);

function withReplicaFailure(
  conditions: readonly SetCondition[],
  failure: ReplicaFailure | undefined,
  now: number,
): SetCondition[] | undefined {
  const rest = conditions.filter((c) => c.type !== "ReplicaFailure");
  if (!failure) return rest.length > 0 ? rest : undefined;
  const next = { type: "ReplicaFailure", status: "True", reason: failure.reason, message: failure.message };
  return upsertCondition<SetCondition>(conditions, next, now);
}

/**
 * The set's status from its active machines (MCM's calculateMachineSetStatus), with
 * availableReplicas honouring minReadySeconds; also when the next machine turns available.
 */
export function setStatus(
  set: MachineSet,
  active: readonly Machine[],
  failure: ReplicaFailure | undefined,
  now: number,
): { status: SetStatus; availableInMs: number | undefined } {
  const minReady = set.spec?.minReadySeconds ?? 0;
  let ready = 0;
  let available = 0;
  let availableInMs: number | undefined;
  for (const m of active) {
    const r = readinessOf(m, minReady, now);
    if (r.ready) ready++;
    if (r.available) available++;
    if (r.availableInMs !== undefined) availableInMs = Math.min(availableInMs ?? Infinity, r.availableInMs);
  }
  const failed = active.filter(
    (m) =>
      m.status?.lastOperation?.state === "Failed" &&
      !(PRESERVE_VALUES as readonly string[]).includes(m.metadata?.annotations?.[Annotations.preserve] ?? ""),
  );
  const conditions = withReplicaFailure(set.status?.machineSetCondition ?? [], failure, now);
  const status: SetStatus = {
    ...set.status,
    replicas: active.length,
    fullyLabeledReplicas: active.filter((m) => labelsMatch(set.spec?.template?.metadata?.labels, m)).length,
    readyReplicas: ready,
    availableReplicas: available,
    labelSelector: selectorString(set.spec?.selector),
  };
  if (set.metadata?.generation !== undefined) status.observedGeneration = set.metadata.generation;
  if (conditions) status.machineSetCondition = conditions;
  else delete status.machineSetCondition;
  if (failed.length > 0) {
    status.failedMachines = failed.map((m) => ({
      name: m.metadata?.name ?? "",
      ...(m.spec.providerID ? { providerID: m.spec.providerID } : {}),
      ...(m.status?.lastOperation ? { lastOperation: m.status.lastOperation } : {}),
      ownerRef: set.metadata?.name ?? "",
    }));
  } else delete status.failedMachines;
  return { status, availableInMs };
}
