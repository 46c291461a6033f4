import { MachineSetConditions } from "../../api/constants.ts";
import { selectorProblem } from "../../runtime/selector-problem.ts";
import type { DeployDeps, DeploymentObject } from "./deps.ts";
import type { MachineDeployment } from "../../api/v1alpha1/machinedeployment.ts";
import { conditionOf, setCondition } from "./status.ts";

type Status = NonNullable<MachineDeployment["status"]>;

const REASON = MachineSetConditions.reasons.invalidSelector;

/**
 * A deployment whose selector is unusable (missing, empty, malformed, or not selecting its
 * template) neither adopts nor creates MachineSets: ReplicaFailure=True (reason InvalidSelector)
 * and one Warning Event say why. Returns the status to write when the deployment is refused.
 */
export async function refusedStatus(d: DeploymentObject, deps: DeployDeps): Promise<Status | undefined> {
  const problem = selectorProblem(d.spec?.selector, d.spec?.template?.metadata?.labels);
  if (!problem) return undefined;
  const old = conditionOf(d, "ReplicaFailure");
  if (old?.status !== "True" || old.reason !== REASON || old.message !== problem)
    await deps.events.record(d, "Warning", REASON, "Create", problem);
  const update = { type: "ReplicaFailure", status: "True", reason: REASON, message: problem } as const;
  return setCondition(d.status ?? {}, update, deps.clock.now());
}

/** The deployment without an InvalidSelector ReplicaFailure (once the selector is fixed). */
export function withoutSelectorFailure(d: DeploymentObject): DeploymentObject {
  if (conditionOf(d, "ReplicaFailure")?.reason !== REASON) return d;
  const conditions = (d.status?.conditions ?? []).filter((c) => c.type !== "ReplicaFailure");
  return { ...d, status: { ...d.status, conditions } };
}
