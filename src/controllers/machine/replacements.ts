import { Labels } from "../../api/constants.ts";
import type { Machine } from "../../api/v1alpha1/machine.ts";
import type { MachineDeployment } from "../../api/v1alpha1/machinedeployment.ts";
import type { ObjectStore } from "../../runtime/cache/store.ts";
import type { KubeObject } from "../../runtime/client/client.ts";
import { resolveIntOrPercent } from "../common/owners.ts";
import { phaseOf } from "./status.ts";

/** Index of machines by their deployment (the `name` label). */
export const DEPLOYMENT_INDEX = "deployment";

const replacing = (m: Machine): boolean =>
  Boolean(m.metadata?.deletionTimestamp) || !["Running", "Unknown"].includes(phaseOf(m));

/**
 * MCM's permit to mark an unhealthy machine Failed (and so replace it), with the limit taken from
 * the deployment's spec.maxReplacements (a number or a percentage of replicas, at least 1; 1 when
 * unset, MCM's fixed value). Machines of the deployment that are being created, have failed or
 * are being deleted count as replacements in flight.
 */
export function replacementPermit(
  machine: Machine,
  machines: ObjectStore<Machine & KubeObject>,
  deployments: ObjectStore<MachineDeployment & KubeObject>,
): { allowed: boolean; message: string } {
  const name = machine.metadata?.labels?.[Labels.name];
  const namespace = machine.metadata?.namespace ?? "";
  if (!name) return { allowed: true, message: "" };
  const d = deployments.get(`${namespace}/${name}`);
  const replicas = d?.spec?.replicas ?? 0;
  const limit = Math.max(1, resolveIntOrPercent(d?.spec?.maxReplacements, replicas, false, 1));
  const inFlight = machines
    .byIndex(DEPLOYMENT_INDEX, name)
    .filter((m) => m.metadata?.namespace === namespace && m.metadata.name !== machine.metadata?.name)
    .filter(replacing).length;
  const allowed = inFlight < limit;
  const message = allowed
    ? ""
    : `Machine ${machine.metadata?.name ?? ""} stays Unknown: ${String(inFlight)} machines of deployment ${name} are already being replaced (maxReplacements ${String(limit)})`;
  return { allowed, message };
}
