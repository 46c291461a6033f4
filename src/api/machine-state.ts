import type { Machine } from "./v1alpha1/machine.ts";

/** The machine's phase, or "" before it has one. */
export const phaseOf = (machine: Machine): string => machine.status?.currentStatus?.phase ?? "";

/** When the machine entered its current phase (ms), or undefined. */
export function phaseSince(machine: Machine): number | undefined {
  const t = machine.status?.currentStatus?.lastUpdateTime;
  return t ? Date.parse(t) : undefined;
}

export interface Readiness {
  /** Phase Running. */
  readonly ready: boolean;
  /** Running (or Available, without a target cluster) for at least minReadySeconds. */
  readonly available: boolean;
  /** When not yet available but ready: milliseconds until it will be. */
  readonly availableInMs?: number;
}

/**
 * Whether a machine is ready and available. Unlike MCM, minReadySeconds is enforced: a machine
 * counts as available only once it has been Running for that long.
 */
export function readinessOf(machine: Machine, minReadySeconds: number, now: number): Readiness {
  const phase = phaseOf(machine);
  const ready = phase === "Running";
  if (!ready && phase !== "Available") return { ready, available: false };
  if (minReadySeconds <= 0) return { ready, available: true };
  const since = phaseSince(machine) ?? now;
  const wait = since + minReadySeconds * 1000 - now;
  return wait <= 0 ? { ready, available: true } : { ready, available: false, availableInMs: wait };
}
