import { upsertCondition } from "../../api/conditions.ts";
import { timestamp } from "../../api/time.ts";
import { DeploymentConditions } from "../../api/constants.ts";
import type { MachineDeployment } from "../../api/v1alpha1/machinedeployment.ts";
import { selectorString } from "../../runtime/selector.ts";
import type { DeploymentObject, SetObject } from "./deps.ts";
import { availableOf, maxUnavailableOf, replicasOf, splitSets, sum } from "./sets.ts";

type Status = NonNullable<MachineDeployment["status"]>;
type Condition = NonNullable<Status["conditions"]>[number];
const R = DeploymentConditions.reasons;

export interface ConditionUpdate {
  readonly type: "Available" | "Progressing" | "ReplicaFailure";
  readonly status: "True" | "False" | "Unknown";
  readonly reason: string;
  readonly message: string;
}

/** Sets a condition; lastTransitionTime moves only when the status changes, lastUpdateTime always. */
export function setCondition(status: Status, u: ConditionUpdate, now: number, touch = false): Status {
  const old = status.conditions?.find((c) => c.type === u.type);
  const same = old?.status === u.status && old.reason === u.reason && old.message === u.message;
  if (same && !touch) return status;
  const next = { ...u, lastUpdateTime: timestamp(now) };
  return { ...status, conditions: upsertCondition<Condition>(status.conditions, next, now) };
}

/**
 * ReplicaFailure/StrategyNotSupported while the deployment asks for a strategy sprout does not
 * implement (stored before admission refused it); removed once the strategy is one it does.
 */
export function strategyCondition(status: Status, note: string | undefined, now: number): Status {
  if (note) {
    const u = {
      type: "ReplicaFailure",
      status: "True",
      reason: R.strategyNotSupported,
      message: note,
    } as const;
    return setCondition(status, u, now);
  }
  const stale = status.conditions?.some(
    (c) => c.type === "ReplicaFailure" && c.reason === R.strategyNotSupported,
  );
  if (!stale) return status;
  return {
    ...status,
    conditions: (status.conditions ?? []).filter((c) => c.reason !== R.strategyNotSupported),
  };
}

export const conditionOf = (d: MachineDeployment, type: string): Condition | undefined =>
  d.status?.conditions?.find((c) => c.type === type);

/** Counts from the deployment's sets (availability as the sets report it: minReadySeconds included). */
export function countStatus(d: DeploymentObject, sets: readonly SetObject[], now: number): Status {
  const { newSet } = splitSets(d, sets);
  const desired = d.spec?.replicas ?? 0;
  const available = sum(sets, availableOf);
  const total = sum(sets, replicasOf);
  let status: Status = {
    ...d.status,
    replicas: sum(sets, (s) => s.status?.replicas ?? 0),
    updatedReplicas: newSet?.status?.replicas ?? 0,
    readyReplicas: sum(sets, (s) => s.status?.readyReplicas ?? 0),
    availableReplicas: available,
    unavailableReplicas: Math.max(total - available, 0),
    labelSelector: selectorString(d.spec?.selector),
  };
  if (d.metadata?.generation !== undefined) status.observedGeneration = d.metadata.generation;
  const failed = sets.flatMap((s) => s.status?.failedMachines ?? []);
  if (failed.length > 0) status.failedMachines = failed;
  else delete status.failedMachines;
  const enough = available >= desired - maxUnavailableOf(d);
  status = setCondition(
    status,
    enough
      ? {
          type: "Available",
          status: "True",
          reason: R.minimumReplicasAvailable,
          message: "Deployment has minimum availability.",
        }
      : {
          type: "Available",
          status: "False",
          reason: R.minimumReplicasUnavailable,
          message: "Deployment does not have minimum availability.",
        },
    now,
  );
  return status;
}

/** All machines updated, counted and available (k8s DeploymentComplete). */
export function isComplete(d: DeploymentObject, status: Status): boolean {
  const desired = d.spec?.replicas ?? 0;
  return (
    status.updatedReplicas === desired &&
    status.replicas === desired &&
    status.availableReplicas === desired &&
    (status.observedGeneration ?? 0) >= (d.metadata?.generation ?? 0)
  );
}

type Count = "updatedReplicas" | "readyReplicas" | "availableReplicas" | "replicas";
const n = (s: Status | undefined, f: Count): number => s?.[f] ?? 0;
const oldLeft = (s: Status | undefined): number => n(s, "replicas") - n(s, "updatedReplicas");

function progressed(before: Status | undefined, after: Status): boolean {
  const grew = (["updatedReplicas", "readyReplicas", "availableReplicas"] as const).some(
    (f) => n(after, f) > n(before, f),
  );
  return grew || oldLeft(after) < oldLeft(before);
}

/**
 * The rollout's Progressing condition (k8s syncRolloutStatus): NewMachineSetAvailable when done,
 * MachineSetUpdated on progress, ProgressDeadlineExceeded after progressDeadlineSeconds without any;
 * no condition without a deadline. Returns the status and when to look at the deadline again.
 */
export function rolloutStatus(
  d: DeploymentObject,
  sets: readonly SetObject[],
  now: number,
): { status: Status; recheckMs: number | undefined } {
  let status = countStatus(d, sets, now);
  const deadline = d.spec?.progressDeadlineSeconds;
  if (deadline === undefined) {
    const conditions = (status.conditions ?? []).filter((c) => c.type !== "Progressing");
    return { status: { ...status, conditions }, recheckMs: undefined };
  }
  const name = splitSets(d, sets).newSet?.metadata?.name ?? "";
  const current = conditionOf({ status }, "Progressing");
  if (isComplete(d, status)) {
    const message = `MachineSet "${name}" has successfully progressed.`;
    status = setCondition(
      status,
      { type: "Progressing", status: "True", reason: R.newMachineSetAvailable, message },
      now,
    );
    return { status, recheckMs: undefined };
  }
  if (progressed(d.status, status) || !current) {
    const message = `MachineSet "${name}" is progressing.`;
    const update = { type: "Progressing", status: "True", reason: R.machineSetUpdated, message } as const;
    status = setCondition(status, update, now, true);
    return { status, recheckMs: deadline * 1000 + 1000 };
  }
  if (current.reason === R.progressDeadlineExceeded) return { status, recheckMs: undefined };
  const since = Date.parse(current.lastUpdateTime ?? "") || now;
  const left = since + deadline * 1000 - now;
  if (left > 0) return { status, recheckMs: left + 1000 };
  const message = `MachineSet "${name}" has timed out progressing.`;
  status = setCondition(
    status,
    { type: "Progressing", status: "False", reason: R.progressDeadlineExceeded, message },
    now,
  );
  return { status, recheckMs: undefined };
}

/** Progressing Unknown/DeploymentPaused while paused, DeploymentResumed after (the deadline does not run meanwhile). */
export function pausedCondition(d: DeploymentObject, status: Status, now: number): Status {
  const current = conditionOf({ status }, "Progressing");
  const pausedNow = current?.reason === R.deploymentPaused;
  if (d.spec?.paused && !pausedNow) {
    return setCondition(
      status,
      { type: "Progressing", status: "Unknown", reason: R.deploymentPaused, message: "Deployment is paused" },
      now,
    );
  }
  if (!d.spec?.paused && pausedNow) {
    return setCondition(
      status,
      {
        type: "Progressing",
        status: "Unknown",
        reason: R.deploymentResumed,
        message: "Deployment is resumed",
      },
      now,
    );
  }
  return status;
}
