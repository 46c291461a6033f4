import {
  Annotations,
  DEFAULT_UNHEALTHY_NODE_CONDITIONS,
  MCM_RETRY_PERIODS,
  type RetryPeriods,
} from "../../api/constants.ts";
import { parseDuration } from "../../api/duration.ts";
import type { Machine } from "../../api/v1alpha1/machine.ts";

/** Settings of the machine controller; flag names and defaults are MCM's (docs/contracts/flags.md). */
export interface MachineControllerConfig extends RetryPeriods {
  /** --namespace: the control-cluster namespace whose machines this instance manages. */
  readonly namespace: string;
  /** --machine-creation-timeout. Default 20 min. */
  readonly creationTimeoutMs: number;
  /** --machine-health-timeout. Default 10 min. */
  readonly healthTimeoutMs: number;
  /** --machine-drain-timeout. Default 2 h. */
  readonly drainTimeoutMs: number;
  /** --machine-max-evict-retries. Default 360. */
  readonly maxEvictRetries: number;
  /** --node-conditions: condition types that make a machine unhealthy when True or Unknown. */
  readonly nodeConditions: readonly string[];
  /** --bootstrap-token-auth-extra-groups. */
  readonly bootstrapTokenAuthExtraGroups: string;
  /** --resource-exhausted-retry. Default 10 min. */
  readonly resourceExhaustedRetryMs: number;
  /** --concurrent-syncs: workers per queue. Default 50. */
  readonly concurrentSyncs: number;
  /** How often Pending and Unknown machines are re-checked. Default 1 min (MCM's). */
  readonly pendingRecheckMs: number;
}

export const defaultMachineControllerConfig = (namespace: string): MachineControllerConfig => ({
  namespace,
  creationTimeoutMs: 20 * 60_000,
  healthTimeoutMs: 10 * 60_000,
  drainTimeoutMs: 2 * 3_600_000,
  maxEvictRetries: 360,
  nodeConditions: DEFAULT_UNHEALTHY_NODE_CONDITIONS,
  bootstrapTokenAuthExtraGroups: "",
  resourceExhaustedRetryMs: 10 * 60_000,
  concurrentSyncs: 50,
  ...MCM_RETRY_PERIODS,
  pendingRecheckMs: 60_000,
});

/**
 * A duration from the spec, or the fallback when it is unset, unparsable or below `min` (objects
 * stored before admission checked durations can hold "-1s"; a negative creation timeout would mint
 * an expired bootstrap token). invalidTimeouts() names such values so they are reported.
 */
const durationOr = (text: string | undefined, fallback: number, min = 0): number => {
  if (!text) return fallback;
  try {
    const ms = parseDuration(text);
    return ms < min ? fallback : ms;
  } catch {
    return fallback;
  }
};

/** Spec timeouts and the least value each may have: zero for a drain, more for the others. */
const TIMEOUT_FIELDS = [
  ["creationTimeout", "machine-creation-timeout", 1],
  ["healthTimeout", "machine-health-timeout", 1],
  ["drainTimeout", "machine-drain-timeout", 0],
] as const;

/** The creation timeout of a machine: the effective-creation-timeout annotation, spec, then flag. */
export function creationTimeoutOf(machine: Machine, config: MachineControllerConfig): number {
  const annotated = machine.metadata?.annotations?.[Annotations.effectiveCreationTimeout];
  return durationOr(annotated, durationOr(machine.spec.creationTimeout, config.creationTimeoutMs, 1), 1);
}

export const healthTimeoutOf = (m: Machine, c: MachineControllerConfig): number =>
  durationOr(m.spec.healthTimeout, c.healthTimeoutMs, 1);

/** One line per spec timeout the controller ignores (the flag's value applies instead). */
export function invalidTimeouts(m: Machine): string[] {
  return TIMEOUT_FIELDS.flatMap(([field, flag, min]) => {
    const text = m.spec[field];
    if (!text || !Number.isNaN(durationOr(text, Number.NaN, min))) return [];
    const what = min > 0 ? "a duration greater than zero" : "a duration of zero or more";
    return [`spec.${field} "${text}" is not ${what}; --${flag} applies instead`];
  });
}

export const drainTimeoutOf = (m: Machine, c: MachineControllerConfig): number =>
  durationOr(m.spec.drainTimeout, c.drainTimeoutMs, 0);

export const nodeConditionsOf = (m: Machine, c: MachineControllerConfig): readonly string[] =>
  m.spec.nodeConditions
    ? m.spec.nodeConditions
        .split(",")
        .map((s) => s.trim())
        .filter(Boolean)
    : c.nodeConditions;

/** MCM retries a PDB-blocked eviction every 20 s. */
export const EVICT_RETRY_PERIOD_MS = 20_000;

/**
 * How long a drain may wait on evictions before it is forced: the drain timeout, or fewer when
 * maxEvictRetries (spec, else --machine-max-evict-retries) retries every 20 s end sooner (MCM's
 * effective retries are min(configured, drainTimeout / 20 s)).
 */
export function evictDeadlineOf(m: Machine, c: MachineControllerConfig): number {
  const retries = m.spec.maxEvictRetries ?? c.maxEvictRetries;
  return Math.min(drainTimeoutOf(m, c), retries * EVICT_RETRY_PERIOD_MS);
}
