import { Annotations, Labels, Taints } from "../../api/constants.ts";
import { MachineResources } from "../../api/resources.ts";
import type { Machine } from "../../api/v1alpha1/machine.ts";
import { Resources } from "../../runtime/client/resources.ts";
import type { NodeObject } from "../machine/deps.ts";
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
const annotationsOf = (n: NodeObject): Record<string, string> =>
  (n.metadata?.annotations ?? {}) as Record<string, string>;

/**
 * While a rollout runs: old sets' Nodes get the PreferNoSchedule taint (new pods go to new Nodes)
 * and, with --autoscaler-scaledown-annotation-during-rollout, every Node of the deployment gets
 * cluster-autoscaler.kubernetes.io/scale-down-disabled with sprout's -by-mcm marker.
 */
export async function markRollout(
  newSet: SetObject | undefined,
  oldSets: readonly SetObject[],
  deps: DeployDeps,
): Promise<void> {
  if (!deps.target || !deps.nodes) return;
  const active = oldSets.filter((s) => replicasOf(s) > 0 || machinesOf(s, deps).length > 0);
  if (active.length === 0) return;
  for (const s of active) await taintOldSet(s, deps);
  if (!deps.scaleDownAnnotationDuringRollout) return;
  for (const node of nodesOf([...(newSet ? [newSet] : []), ...active], deps)) {
    if (annotationsOf(node)[Annotations.scaleDownDisabled] === "true") continue;
    const annotations = {
      [Annotations.scaleDownDisabled]: "true",
      [Annotations.scaleDownDisabledByMCM]: "true",
    };
    await patchNode(node, { metadata: { annotations } }, deps);
  }
}

/** An old set is annotated prefer-no-schedule and its Nodes get the PreferNoSchedule taint. */
async function taintOldSet(s: SetObject, deps: DeployDeps): Promise<void> {
  const meta = s.metadata ?? {};
  if (meta.annotations?.[Annotations.preferNoSchedule] !== "True") {
    await deps.client.patch(MachineResources.machineSets, meta.namespace, meta.name ?? "", {
      metadata: { annotations: { [Annotations.preferNoSchedule]: "True" } },
    });
  }
  for (const node of nodesOf([s], deps).filter((n) => !hasTaint(n))) {
    const taints = [...(node.spec?.taints ?? []), ROLLOUT_TAINT];
    await patchNode(
      node,
      { metadata: { resourceVersion: node.metadata?.resourceVersion }, spec: { taints } },
      deps,
    );
  }
}

/**
 * After a rollout: the scale-down-disabled annotations sprout set are removed (never a user's),
 * and the new set's Nodes lose a PreferNoSchedule taint they may carry from an earlier rollout.
 */
export async function clearRollout(newSet: SetObject | undefined, deps: DeployDeps): Promise<void> {
  if (!deps.target || !deps.nodes || !newSet) return;
  for (const node of nodesOf([newSet], deps)) {
    const a = annotationsOf(node);
    if (a[Annotations.scaleDownDisabledByMCM] === "true" && !a[Annotations.preserve]) {
      const annotations = {
        [Annotations.scaleDownDisabled]: null,
        [Annotations.scaleDownDisabledByMCM]: null,
      };
      await patchNode(node, { metadata: { annotations } }, deps);
    }
    if (hasTaint(node)) {
      const taints = (node.spec?.taints ?? []).filter((t) => t.key !== Taints.preferNoSchedule);
      const metadata = { resourceVersion: node.metadata?.resourceVersion };
      await patchNode(node, { metadata, spec: { taints } }, deps);
    }
  }
}
