import { type NodeObject } from "../../api/core.ts";
import { Annotations, Labels, Taints } from "../../api/constants.ts";
import { MachineResources } from "../../api/resources.ts";
import type { Machine } from "../../api/v1alpha1/machine.ts";
import { Resources } from "../../runtime/client/resources.ts";
import type { DeployDeps, SetObject } from "./deps.ts";
import { replicasOf } from "./sets.ts";

type Taint = NonNullable<NonNullable<NodeObject["spec"]>["taints"]>[number];
const ROLLOUT_TAINT: Taint = { key: Taints.preferNoSchedule, value: "True", effect: "PreferNoSchedule" };

const machinesOf = (set: SetObject, deps: DeployDeps): Machine[] =>
  deps.machines.store.byIndex("controller", set.metadata?.uid ?? "");

function nodesOf(sets: readonly SetObject[], deps: DeployDeps): NodeObject[] {
  const names = sets.flatMap((s) => machinesOf(s, deps)).map((m) => m.metadata?.labels?.[Labels.node]);
  return names.flatMap((n) => {
    const node = n ? deps.nodes?.store.get(n) : undefined;
    return node ? [node] : [];
  });
}

async function patchNode(node: NodeObject, patch: unknown, deps: DeployDeps): Promise<void> {
  await deps.target?.patch(Resources.nodes, undefined, node.metadata?.name ?? "", patch);
}

const hasTaint = (n: NodeObject): boolean =>
  (n.spec?.taints ?? []).some((t) => t.key === Taints.preferNoSchedule);
const annotationsOf = (n: NodeObject): Record<string, string> => n.metadata?.annotations ?? {};

/** Whether a Node carries what a rollout marks Nodes with (the -by-mcm annotation or the taint). */
export const rolloutMarked = (n: NodeObject): boolean =>
  annotationsOf(n)[Annotations.scaleDownDisabledByMCM] === "true" || hasTaint(n);

const SCALE_DOWN_DISABLED = {
  [Annotations.scaleDownDisabled]: "true",
  [Annotations.scaleDownDisabledByMCM]: "true",
};

/**
 * While a rollout runs: old sets are annotated prefer-no-schedule and their Nodes get the
 * PreferNoSchedule taint (new pods go to new Nodes); with
 * --autoscaler-scaledown-annotation-during-rollout every Node of the deployment also gets
 * cluster-autoscaler.kubernetes.io/scale-down-disabled with sprout's -by-mcm marker. One write a Node.
 */
export async function markRollout(
  newSet: SetObject | undefined,
  oldSets: readonly SetObject[],
  deps: DeployDeps,
): Promise<void> {
  if (!deps.target || !deps.nodes) return;
  const active = oldSets.filter((s) => replicasOf(s) > 0 || machinesOf(s, deps).length > 0);
  if (active.length === 0) return;
  for (const s of active) await annotateOldSet(s, deps);
  const old = new Set(nodesOf(active, deps).map((n) => n.metadata?.name));
  const annotate = deps.scaleDownAnnotationDuringRollout;
  const nodes = nodesOf(annotate && newSet ? [newSet, ...active] : active, deps);
  for (const node of nodes) {
    const taint = old.has(node.metadata?.name) && !hasTaint(node);
    const disable = annotate && annotationsOf(node)[Annotations.scaleDownDisabled] !== "true";
    if (taint || disable) await patchNode(node, rolloutPatch(node, taint, disable), deps);
  }
}

/** The rollout taint and/or the scale-down-disabled annotations, as one patch. */
function rolloutPatch(node: NodeObject, taint: boolean, disable: boolean): unknown {
  if (!taint) return { metadata: { annotations: SCALE_DOWN_DISABLED } };
  return {
    metadata: {
      ...(disable ? { annotations: SCALE_DOWN_DISABLED } : {}),
      // Taints are replaced whole: only then does a concurrent change have to fail the write.
      resourceVersion: node.metadata?.resourceVersion,
    },
    spec: { taints: [...(node.spec?.taints ?? []), ROLLOUT_TAINT] },
  };
}

async function annotateOldSet(s: SetObject, deps: DeployDeps): Promise<void> {
  const meta = s.metadata ?? {};
  if (meta.annotations?.[Annotations.preferNoSchedule] === "True") return;
  await deps.client.patch(MachineResources.machineSets, meta.namespace, meta.name ?? "", {
    metadata: { annotations: { [Annotations.preferNoSchedule]: "True" } },
  });
}

/**
 * After a rollout: the scale-down-disabled annotations sprout set are removed (never a user's),
 * and the new set's Nodes lose a PreferNoSchedule taint they may carry from an earlier rollout.
 */
export async function clearRollout(newSet: SetObject | undefined, deps: DeployDeps): Promise<void> {
  if (!deps.target || !deps.nodes || !newSet) return;
  for (const node of nodesOf([newSet], deps)) {
    const a = annotationsOf(node);
    const enable = a[Annotations.scaleDownDisabledByMCM] === "true" && !a[Annotations.preserve];
    const untaint = hasTaint(node);
    if (!enable && !untaint) continue;
    const annotations = { [Annotations.scaleDownDisabled]: null, [Annotations.scaleDownDisabledByMCM]: null };
    const taints = (node.spec?.taints ?? []).filter((t) => t.key !== Taints.preferNoSchedule);
    await patchNode(
      node,
      {
        metadata: {
          ...(enable ? { annotations } : {}),
          ...(untaint ? { resourceVersion: node.metadata?.resourceVersion } : {}),
        },
        ...(untaint ? { spec: { taints } } : {}),
      },
      deps,
    );
  }
}
