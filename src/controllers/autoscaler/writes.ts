import { Annotations } from "../../api/constants.ts";
import { MachineResources } from "../../api/resources.ts";
import { timestamp } from "../../api/time.ts";
import { formatTriggerDeletion, parseTriggerDeletion } from "../../api/trigger-deletion.ts";
import type { Machine } from "../../api/v1alpha1/machine.ts";
import type { MachineDeployment } from "../../api/v1alpha1/machinedeployment.ts";
import type { Clock } from "../../runtime/clock.ts";
import { type KubeClient, type KubeObject, retryOnConflict } from "../../runtime/client/client.ts";
import { AutoscalerError } from "./errors.ts";
import {
  groupById,
  machineForNode,
  machinesOf,
  type NodeGroup,
  type NodeRef,
  notRemovable,
  registered,
  rollingOut,
  type Snapshot,
} from "./model.ts";

type Deployment = MachineDeployment & KubeObject;

/** What a size change needs: the apiserver, a fresh snapshot on demand, the clock. */
export interface WriteDeps {
  readonly client: KubeClient;
  readonly clock: Clock;
  readonly fresh: () => Promise<Snapshot>;
}

const nameOf = (o: { metadata?: { name?: string } }): string => o.metadata?.name ?? "";

/**
 * Reads the group and its deployment afresh, lets `change` return the new deployment (or throw a
 * refusal), and writes it with one Update guarded by its resourceVersion; a conflict starts over.
 */
async function updateGroup(
  deps: WriteDeps,
  id: string,
  change: (d: Deployment, group: NodeGroup, s: Snapshot) => Deployment,
): Promise<void> {
  await retryOnConflict(
    async () => {
      const s = await deps.fresh();
      const group = groupById(s, id);
      const d = await deps.client.get<Deployment>(
        MachineResources.machineDeployments,
        s.namespace,
        nameOf(group.deployment),
      );
      await deps.client.update(
        MachineResources.machineDeployments,
        change(d, { ...group, deployment: d }, s),
      );
    },
    5,
    deps.clock,
  );
}

const replicasOf = (d: MachineDeployment): number => d.spec?.replicas ?? 0;
const withReplicas = (d: Deployment, replicas: number, annotations?: Record<string, string>): Deployment => ({
  ...d,
  metadata: { ...d.metadata, annotations: { ...d.metadata?.annotations, ...annotations } },
  spec: { ...d.spec, replicas } as NonNullable<Deployment["spec"]>,
});

function refuseWhileRolling(group: NodeGroup): void {
  if (rollingOut(group.deployment)) {
    throw new AutoscalerError(
      "FailedPrecondition",
      `node group ${group.id} is rolling out (MachineDeployment condition Progressing); it cannot shrink until the rollout is done`,
    );
  }
}

/** NodeGroupIncreaseSize: spec.replicas up by delta, never beyond the group's max. */
export async function increaseSize(deps: WriteDeps, id: string, delta: number): Promise<void> {
  if (!(delta > 0)) throw new AutoscalerError("InvalidArgument", `delta must be positive, got ${delta}`);
  await updateGroup(deps, id, (d, group) => {
    const target = replicasOf(d) + delta;
    if (target > group.maxSize) {
      throw new AutoscalerError(
        "FailedPrecondition",
        `node group ${id}: size ${replicasOf(d)} + ${delta} would exceed its max size ${group.maxSize}`,
      );
    }
    return withReplicas(d, target);
  });
}

/**
 * Adds machines to trigger-deletion-by-mcm (MCM v0.62's `<machine>~<RFC3339>` entries, sorted) and
 * lowers spec.replicas by the number of new names, in one Update, as Gardener's provider does.
 */
function triggerDeletion(
  d: Deployment,
  victims: readonly string[],
  now: string,
  group: NodeGroup,
): Deployment {
  const value = d.metadata?.annotations?.[Annotations.triggerDeletionByMCM] ?? "";
  const entries = parseTriggerDeletion(value, now);
  const added = victims.filter((v) => !entries.some((e) => e.name === v));
  const target = replicasOf(d) - added.length;
  if (target < group.minSize) {
    throw new AutoscalerError(
      "FailedPrecondition",
      `node group ${group.id}: size ${replicasOf(d)} - ${added.length} would go below its min size ${group.minSize}`,
    );
  }
  return withReplicas(d, target, {
    [Annotations.triggerDeletionByMCM]: formatTriggerDeletion([
      ...entries,
      ...added.map((name) => ({ name, time: now })),
    ]),
    [Annotations.lastReplicaChangeByScaler]: now,
  });
}

/**
 * NodeGroupDeleteNodes: exactly these nodes' machines go, through the trigger-deletion protocol.
 * Refused, changing nothing, when a node is not the group's, when the group would go below its min
 * size, or while it rolls out. Machines already going, failed or preserved, and nodes marked
 * cluster-autoscaler.kubernetes.io/scale-down-disabled, are skipped (all skipped: refused).
 */
export async function deleteNodes(deps: WriteDeps, id: string, nodes: readonly NodeRef[]): Promise<void> {
  if (nodes.length === 0) throw new AutoscalerError("InvalidArgument", "no nodes given");
  const now = timestamp(deps.clock.now());
  await updateGroup(deps, id, (d, group, s) => {
    refuseWhileRolling(group);
    const mine = new Set(machinesOf(s, group).map(nameOf));
    const victims: string[] = [];
    const skipped: string[] = [];
    for (const node of nodes) {
      const label = node.name || node.providerID || "(unnamed)";
      const m = machineForNode(s, node);
      if (!m || !mine.has(nameOf(m))) {
        throw new AutoscalerError("InvalidArgument", `node ${label} does not belong to node group ${id}`);
      }
      const why =
        notRemovable(m) ??
        (node.annotations?.[Annotations.scaleDownDisabled] === "true"
          ? `has ${Annotations.scaleDownDisabled}`
          : undefined);
      if (why) skipped.push(`machine ${nameOf(m)} ${why}`);
      else victims.push(nameOf(m));
    }
    if (victims.length === 0)
      throw new AutoscalerError("FailedPrecondition", `no nodes to delete: ${skipped.join("; ")}`);
    return triggerDeletion(d, victims, now, group);
  });
}

/**
 * NodeGroupDecreaseTargetSize: cancels requests not yet fulfilled. Replicas no machine exists for
 * yet go first, then machines whose Node has not registered (newest first, named in
 * trigger-deletion-by-mcm so no registered machine goes); refused when that is not enough.
 */
export async function decreaseTargetSize(deps: WriteDeps, id: string, delta: number): Promise<void> {
  if (!(delta < 0)) throw new AutoscalerError("InvalidArgument", `delta must be negative, got ${delta}`);
  const now = timestamp(deps.clock.now());
  await updateGroup(deps, id, (d, group, s) => {
    refuseWhileRolling(group);
    const live = machinesOf(s, group).filter((m) => !notRemovable(m));
    const notCreated = Math.max(0, replicasOf(d) - live.length);
    const unregistered = live
      .filter((m) => !registered(m))
      .sort((a, b) =>
        (b.metadata?.creationTimestamp ?? "").localeCompare(a.metadata?.creationTimestamp ?? ""),
      );
    const fromMachines = Math.max(0, -delta - notCreated);
    if (fromMachines > unregistered.length) {
      throw new AutoscalerError(
        "FailedPrecondition",
        `node group ${id}: only ${notCreated + unregistered.length} of its ${replicasOf(d)} nodes are not registered yet; cannot decrease the target by ${-delta}`,
      );
    }
    const victims = unregistered.slice(0, fromMachines).map((m: Machine) => nameOf(m));
    const target = replicasOf(d) + delta;
    if (target < group.minSize) {
      throw new AutoscalerError(
        "FailedPrecondition",
        `node group ${id}: target ${target} would go below its min size ${group.minSize}`,
      );
    }
    if (victims.length === 0) return withReplicas(d, target);
    const marked = triggerDeletion(d, victims, now, group);
    return withReplicas(marked, target);
  });
}
