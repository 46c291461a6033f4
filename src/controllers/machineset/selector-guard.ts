import { MachineSetConditions } from "../../api/constants.ts";
import type { Machine } from "../../api/v1alpha1/machine.ts";
import type { MachineSet } from "../../api/v1alpha1/machineset.ts";
export { selectorProblem } from "../../runtime/selector-problem.ts";
import type { SetDeps } from "./deps.ts";
import { setStatus } from "./status.ts";

/**
 * A set whose selector is unusable neither claims, creates nor deletes machines: it reports the
 * problem in a ReplicaFailure condition (reason InvalidSelector) and one Warning Event (none again
 * while the condition already says so), and keeps counting the machines it controls. Returns the
 * set's status to write.
 */
export async function refusedStatus(
  set: MachineSet,
  owned: readonly Machine[],
  problem: string,
  deps: SetDeps,
): Promise<NonNullable<MachineSet["status"]>> {
  const reason = MachineSetConditions.reasons.invalidSelector;
  const reported = set.status?.machineSetCondition?.some(
    (c) => c.type === "ReplicaFailure" && c.reason === reason && c.message === problem,
  );
  if (!reported) await deps.events.record(set, "Warning", reason, "Create", problem);
  return setStatus(set, owned, { reason, message: problem }, deps.clock.now()).status;
}
