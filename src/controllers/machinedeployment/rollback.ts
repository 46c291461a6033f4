import { SetEventReasons } from "../../api/constants.ts";
import type { DeployDeps, DeploymentObject, SetObject } from "./deps.ts";
import { equalIgnoreHash, withoutHash } from "./hash.ts";
import { revisionOf } from "./sets.ts";

/**
 * spec.rollbackTo (MCM's deprecated but working rollback): copies the template of the set with
 * that revision (0: the one before the latest) back into the deployment and clears rollbackTo;
 * returns the deployment so changed, for the reconcile's one write.
 */
export async function rollback(
  d: DeploymentObject,
  sets: readonly SetObject[],
  deps: DeployDeps,
): Promise<DeploymentObject> {
  const revisions = [...new Set(sets.map(revisionOf))].sort((a, b) => b - a);
  const wanted = d.spec?.rollbackTo?.revision ?? 0;
  const target = wanted === 0 ? revisions[1] : wanted;
  const set = target === undefined ? undefined : sets.find((s) => revisionOf(s) === target);
  const meta = d.metadata ?? {};
  const spec = { ...(d.spec ?? { template: {} }) };
  delete spec.rollbackTo;
  if (!set?.spec?.template) {
    const note = `Unable to find the revision to roll back to (${String(wanted)}).`;
    await deps.events.record(d, "Warning", SetEventReasons.rollbackRevisionNotFound, "Rollback", note);
  } else if (equalIgnoreHash(set.spec.template, d.spec?.template)) {
    const note = `The rollback revision ${String(target)} has the current template; nothing to do.`;
    await deps.events.record(d, "Warning", SetEventReasons.rollbackTemplateUnchanged, "Rollback", note);
  } else {
    spec.template = withoutHash(set.spec.template);
    const note = `Rolled back deployment "${meta.name ?? ""}" to revision ${String(target)}`;
    await deps.events.record(d, "Normal", SetEventReasons.deploymentRollback, "Rollback", note);
  }
  return { ...d, spec };
}
