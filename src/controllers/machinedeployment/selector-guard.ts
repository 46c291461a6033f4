import { MachineSetConditions } from "../../api/constants.ts";
import { MachineResources } from "../../api/resources.ts";
import { selectorProblem } from "../../runtime/selector-problem.ts";
import type { DeployDeps, DeploymentObject } from "./deps.ts";
import { conditionOf, setCondition, writeDeploymentStatus } from "./status.ts";

const REASON = MachineSetConditions.reasons.invalidSelector;

/**
 * A deployment whose selector is unusable (missing, empty, malformed, or not selecting its
 * template) neither adopts nor creates MachineSets: ReplicaFailure=True (reason InvalidSelector)
 * and one Warning Event say why. Returns whether the deployment was refused.
 */
export async function refuseDeployment(d: DeploymentObject, deps: DeployDeps): Promise<boolean> {
  const problem = selectorProblem(d.spec?.selector, d.spec?.template?.metadata?.labels);
  if (!problem) return false;
  const old = conditionOf(d, "ReplicaFailure");
  if (old?.status !== "True" || old.reason !== REASON || old.message !== problem)
    await deps.events.record(d, "Warning", REASON, "Create", problem);
  const update = { type: "ReplicaFailure", status: "True", reason: REASON, message: problem } as const;
  await writeDeploymentStatus(d, setCondition(d.status ?? {}, update, deps.clock.now()), deps);
  return true;
}

/** Drops an InvalidSelector ReplicaFailure once the selector is fixed; returns the deployment as written. */
export async function clearSelectorFailure(d: DeploymentObject, deps: DeployDeps): Promise<DeploymentObject> {
  if (conditionOf(d, "ReplicaFailure")?.reason !== REASON) return d;
  const conditions = (d.status?.conditions ?? []).filter((c) => c.type !== "ReplicaFailure");
  const meta = d.metadata ?? {};
  return deps.client.patch<DeploymentObject>(
    MachineResources.machineDeployments,
    meta.namespace,
    meta.name ?? "",
    { status: { conditions } },
    "merge",
    "status",
  );
}
