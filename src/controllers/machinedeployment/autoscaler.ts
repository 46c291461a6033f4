import { controllerRefOf } from "../../runtime/meta/owners.ts";
import { phaseOf } from "../../api/machine-state.ts";
import { timestamp } from "../../api/time.ts";
import {
  formatTriggerDeletion,
  parseTriggerDeletion,
  type TriggerDeletionEntry as Entry,
} from "../../api/trigger-deletion.ts";
import { Annotations, SetEventReasons } from "../../api/constants.ts";
import { MachineResources } from "../../api/resources.ts";
import type { Machine } from "../../api/v1alpha1/machine.ts";
import type { DeployDeps, DeploymentObject, SetObject } from "./deps.ts";

const gone = (m: Machine | undefined): boolean =>
  !m || Boolean(m.metadata?.deletionTimestamp) || ["Failed", "Terminating"].includes(phaseOf(m));

/** Priority 1 and the marked-for-deletion-time on each named machine; true when any was written. */
async function markMachines(
  d: DeploymentObject,
  entries: readonly Entry[],
  cached: (name: string) => Machine | undefined,
  deps: DeployDeps,
): Promise<boolean> {
  let wrote = false;
  for (const e of entries) {
    const a = cached(e.name)?.metadata?.annotations ?? {};
    if (a[Annotations.machinePriority] === "1" && a[Annotations.markedForDeletionTime] === e.time) continue;
    wrote = true;
    const annotations = { [Annotations.machinePriority]: "1", [Annotations.markedForDeletionTime]: e.time };
    await deps.client.patch(MachineResources.machines, d.metadata?.namespace, e.name, {
      metadata: { annotations },
    });
    const note = `Machine ${e.name} marked for deletion by the cluster-autoscaler`;
    await deps.events.record(d, "Normal", SetEventReasons.triggerDeletion, "Scale", note);
  }
  return wrote;
}

/** True when the machine's controller is one of the deployment's own MachineSets. */
export function ownedBySets(m: Machine, sets: readonly SetObject[]): boolean {
  const ref = controllerRefOf(m);
  return ref?.kind === "MachineSet" && sets.some((s) => s.metadata?.uid === ref.uid);
}

/**
 * The cluster-autoscaler's node.machine.sapcloud.io/trigger-deletion-by-mcm protocol: each named
 * machine gets priority 1 and its marked-for-deletion-time (so its set deletes it first), names
 * of machines already gone are pruned. Only machines of this deployment's own sets are marked: a
 * name of another deployment's machine is pruned with a Warning Event and changes nothing there.
 * Returns the deployment with its annotations brought up to date, and `pending` while machine
 * annotations are not yet visible in the cache: the caller must not scale the sets before they
 * are, or a set could pick other victims.
 */
export async function processTriggerDeletion(
  d: DeploymentObject,
  sets: readonly SetObject[],
  deps: DeployDeps,
): Promise<{ draft: DeploymentObject; pending: boolean }> {
  const meta = d.metadata ?? {};
  const value = meta.annotations?.[Annotations.triggerDeletionByMCM];
  if (value === undefined) return { draft: d, pending: false };
  const now = timestamp(deps.clock.now());
  const entries = parseTriggerDeletion(value, now);
  const cached = (name: string): Machine | undefined =>
    deps.machines.store.get(`${meta.namespace ?? ""}/${name}`);
  const present = entries.filter((e) => !gone(cached(e.name)));
  const live = present.filter((e) => {
    const m = cached(e.name);
    return m !== undefined && ownedBySets(m, sets);
  });
  for (const e of present.filter((p) => !live.includes(p))) {
    const note = `Machine ${e.name} named in ${Annotations.triggerDeletionByMCM} is not a machine of this MachineDeployment; entry dropped`;
    await deps.events.record(d, "Warning", SetEventReasons.triggerDeletionForeign, "Scale", note);
  }
  const marked = await markMachines(d, live, cached, deps);
  const normalized = formatTriggerDeletion(live);
  const trigger = Annotations.triggerDeletionByMCM;
  const annotations = Object.fromEntries(
    Object.entries(meta.annotations ?? {}).filter(([k]) => k !== trigger || normalized),
  );
  if (normalized) annotations[trigger] = normalized;
  if (live.length > 0 && !annotations[Annotations.lastReplicaChangeByScaler]) {
    annotations[Annotations.lastReplicaChangeByScaler] = now;
  }
  const changed =
    normalized !== value ||
    annotations[Annotations.lastReplicaChangeByScaler] !==
      meta.annotations?.[Annotations.lastReplicaChangeByScaler];
  return { draft: { ...d, metadata: { ...meta, annotations } }, pending: marked || changed };
}
