import { resolveIntOrPercent } from "./intorpercent.ts";
import type { MachineDeployment } from "./v1alpha1/machinedeployment.ts";

/** A MachineDeployment's strategy type; RollingUpdate when unset, as MCM defaults it. */
export const strategyOf = (d: MachineDeployment): string => d.spec?.strategy?.type ?? "RollingUpdate";

/** maxSurge as a number (RollingUpdate only; percent rounds up). */
export function maxSurgeOf(d: MachineDeployment): number {
  if (strategyOf(d) !== "RollingUpdate") return 0;
  const replicas = d.spec?.replicas ?? 0;
  return Math.max(0, resolveIntOrPercent(d.spec?.strategy?.rollingUpdate?.maxSurge, replicas, true, "25%"));
}

/** maxUnavailable as a number (percent rounds down; 1 when both are 0; at most replicas). */
export function maxUnavailableOf(d: MachineDeployment): number {
  const replicas = d.spec?.replicas ?? 0;
  if (strategyOf(d) !== "RollingUpdate" || replicas === 0) return 0;
  const ru = d.spec?.strategy?.rollingUpdate;
  const unavailable = resolveIntOrPercent(ru?.maxUnavailable, replicas, false, "25%");
  if (unavailable === 0 && maxSurgeOf(d) === 0) return 1;
  return Math.min(Math.max(0, unavailable), replicas);
}
