import { Annotations } from "../../api/constants.ts";
import type { MachineSet } from "../../api/v1alpha1/machineset.ts";
import type { DeployDeps, DeploymentObject, SetObject } from "./deps.ts";
import {
  availableOf,
  byAge,
  ensureNewSet,
  maxSurgeOf,
  maxUnavailableOf,
  replicasOf,
  scaleSet,
  splitSets,
  sum,
} from "./sets.ts";

const desiredOf = (d: DeploymentObject): number => d.spec?.replicas ?? 0;

/** How many machines the new set should have now: grow within maxSurge (k8s NewRSNewReplicas). */
function newSetTarget(
  d: DeploymentObject,
  all: readonly MachineSet[],
  newSet: MachineSet | undefined,
): number {
  const current = newSet ? replicasOf(newSet) : 0;
  if (d.spec?.strategy?.type === "Recreate") return desiredOf(d);
  const maxTotal = desiredOf(d) + maxSurgeOf(d);
  const total = sum(all, replicasOf);
  if (total >= maxTotal) return current;
  return current + Math.max(0, Math.min(maxTotal - total, desiredOf(d) - current));
}

/**
 * One step of a RollingUpdate: grow the new set within maxSurge, else shrink old sets within
 * maxUnavailable (unhealthy machines first, then oldest sets). Returns whether anything was scaled.
 */
export async function rollingStep(
  d: DeploymentObject,
  sets: SetObject[],
  deps: DeployDeps,
): Promise<boolean> {
  const { newSet: existing, oldSets } = splitSets(d, sets);
  const target = newSetTarget(d, sets, existing);
  const newSet = await ensureNewSet(d, sets, existing ? replicasOf(existing) : target, deps);
  const all = [newSet, ...oldSets];
  const desired = desiredOf(d);
  if (replicasOf(newSet) > desired) {
    await scaleSet(newSet, desired, d, deps);
    return true;
  }
  if (replicasOf(newSet) < desired) {
    const next = newSetTarget(d, all, newSet);
    if (next !== replicasOf(newSet)) {
      await scaleSet(newSet, next, d, deps);
      return true;
    }
  }
  return scaleDownOld(d, newSet, oldSets, deps);
}

async function scaleDownOld(
  d: DeploymentObject,
  newSet: SetObject,
  oldSets: readonly SetObject[],
  deps: DeployDeps,
): Promise<boolean> {
  const active = oldSets.filter((s) => replicasOf(s) > 0).sort(byAge);
  if (active.length === 0) return false;
  const all = [newSet, ...active];
  const minAvailable = desiredOf(d) - maxUnavailableOf(d);
  const newUnavailable = replicasOf(newSet) - availableOf(newSet);
  let budget = sum(all, replicasOf) - minAvailable - newUnavailable;
  if (budget <= 0) return false;
  let scaled = false;
  // Unhealthy machines of old sets go first: removing them costs no availability.
  const remaining = new Map(active.map((s) => [s, replicasOf(s)]));
  for (const s of active) {
    const unhealthy = Math.min(replicasOf(s) - availableOf(s), budget);
    if (unhealthy <= 0) continue;
    remaining.set(s, replicasOf(s) - unhealthy);
    budget -= unhealthy;
  }
  // Then available ones, oldest set first, as far as the others keep minAvailable.
  let spare = availableOf(newSet) + sum(active, availableOf) - minAvailable;
  for (const s of active) {
    if (spare <= 0) break;
    const left = remaining.get(s) ?? 0;
    const cut = Math.min(left, spare);
    remaining.set(s, left - cut);
    spare -= cut;
  }
  for (const s of active) {
    const next = remaining.get(s) ?? replicasOf(s);
    if (next !== replicasOf(s)) {
      await scaleSet(s, next, d, deps);
      scaled = true;
    }
  }
  return scaled;
}

/**
 * One step of a Recreate: old sets to zero, wait until their machines are gone, then the new set to
 * spec.replicas. `oldMachines` counts machines still owned by old sets.
 */
export async function recreateStep(
  d: DeploymentObject,
  sets: SetObject[],
  oldMachines: number,
  deps: DeployDeps,
): Promise<boolean> {
  const { newSet, oldSets } = splitSets(d, sets);
  let scaled = false;
  for (const s of oldSets.filter((o) => replicasOf(o) > 0)) {
    await scaleSet(s, 0, d, deps);
    scaled = true;
  }
  if (scaled || oldMachines > 0) return true;
  const current = await ensureNewSet(d, sets, newSet ? replicasOf(newSet) : desiredOf(d), deps);
  if (replicasOf(current) === desiredOf(d)) return current !== newSet;
  await scaleSet(current, desiredOf(d), d, deps);
  return true;
}

/** Whether spec.replicas changed since the sets were last scaled (a scaling event, not a rollout). */
export function isScalingEvent(d: DeploymentObject, sets: readonly SetObject[]): boolean {
  const desired = String(desiredOf(d));
  return sets.some((s) => {
    const annotated = s.metadata?.annotations?.[Annotations.desiredReplicas];
    return replicasOf(s) > 0 && annotated !== undefined && annotated !== desired;
  });
}

const maxReplicasAnnotation = (s: MachineSet): number | undefined => {
  const n = Number.parseInt(s.metadata?.annotations?.[Annotations.maxReplicas] ?? "", 10);
  return Number.isFinite(n) ? n : undefined;
};

/** New replica counts of several active sets for spec.replicas (k8s getProportion / leftovers). */
export function proportions(d: DeploymentObject, active: readonly SetObject[]): Map<SetObject, number> {
  const desired = desiredOf(d);
  const allowed = desired + maxSurgeOf(d);
  const total = sum(active, replicasOf);
  const toAdd = allowed - total;
  const ordered = [...active].sort(
    (a, b) => replicasOf(b) - replicasOf(a) || (toAdd > 0 ? byAge(b, a) : byAge(a, b)),
  );
  const next = new Map<SetObject, number>();
  let added = 0;
  for (const s of ordered) {
    const annotated = maxReplicasAnnotation(s) ?? d.status?.replicas ?? total;
    const fraction =
      desired === 0 || annotated === 0
        ? -replicasOf(s)
        : Math.ceil((replicasOf(s) * allowed) / annotated) - replicasOf(s);
    const room = toAdd - added;
    const change = toAdd > 0 ? Math.min(fraction, room) : Math.max(fraction, room);
    next.set(s, replicasOf(s) + change);
    added += change;
  }
  const first = ordered[0];
  if (first && added !== toAdd) next.set(first, Math.max(0, (next.get(first) ?? 0) + toAdd - added));
  return next;
}

/**
 * Scaling without a rollout (k8s Deployment's scale): a single active set takes spec.replicas; with
 * several (mid-rollout), each changes in proportion to its share, the remainder to the largest.
 */
export async function scaleProportionally(
  d: DeploymentObject,
  sets: readonly SetObject[],
  deps: DeployDeps,
): Promise<void> {
  const { newSet, oldSets } = splitSets(d, sets);
  const active = sets.filter((s) => replicasOf(s) > 0);
  const desired = desiredOf(d);
  if (active.length <= 1) {
    const target = active[0] ?? newSet ?? [...oldSets].sort(byAge).at(-1);
    if (target) await scaleSet(target, desired, d, deps);
    return;
  }
  const next = proportions(d, active);
  for (const [s, replicas] of next) await scaleSet(s, Math.max(0, replicas), d, deps);
}
