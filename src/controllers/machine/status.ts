import type {
  MachineConditionType,
  MachineOperationState,
  MachineOperationType,
  MachinePhase,
} from "../../api/constants.ts";
import { upsertCondition } from "../../api/conditions.ts";
import { timestamp } from "../../api/time.ts";
import type { Machine, MachineStatus } from "../../api/v1alpha1/machine.ts";

export interface ConditionUpdate {
  readonly type: MachineConditionType;
  readonly status: "True" | "False" | "Unknown";
  readonly reason: string;
  readonly message?: string;
}

type MachineCondition = NonNullable<MachineStatus["machineConditions"]>[number];

/** Sets conditions, keeping lastTransitionTime when a condition's status does not change. */
export function withConditions(
  machine: Machine,
  status: MachineStatus,
  updates: readonly ConditionUpdate[],
  now: number,
): MachineStatus {
  if (updates.length === 0) return status;
  let list = status.machineConditions;
  for (const u of updates) {
    const next = {
      type: u.type,
      status: u.status,
      reason: u.reason,
      ...(u.message ? { message: u.message } : {}),
      ...(machine.metadata?.generation ? { observedGeneration: machine.metadata.generation } : {}),
    };
    list = upsertCondition<MachineCondition>(list, next, now);
  }
  return { ...status, machineConditions: list ?? [] };
}

export interface OperationUpdate {
  readonly phase?: MachinePhase;
  readonly type: MachineOperationType;
  readonly state: MachineOperationState;
  readonly description: string;
  readonly errorCode?: string;
  readonly timeoutActive?: boolean;
  /** Conditions to set with the operation (their message defaults to the description). */
  readonly conditions?: readonly ConditionUpdate[];
}

/**
 * The machine's status after an operation: lastOperation always; currentStatus (phase, its
 * lastUpdateTime, timeoutActive) when the phase or timeout flag changes, so the time a phase began
 * is kept.
 */
export function withOperation(machine: Machine, update: OperationUpdate, now: number): MachineStatus {
  const status = machine.status ?? {};
  const current = status.currentStatus ?? {};
  const phase = update.phase ?? current.phase;
  const phaseChanged = phase !== current.phase;
  const timeoutActive = update.timeoutActive ?? current.timeoutActive ?? false;
  const conditions = (update.conditions ?? []).map((c) => ({
    ...c,
    message: c.message ?? update.description,
  }));
  return {
    ...withConditions(machine, status, conditions, now),
    lastOperation: {
      description: update.description,
      state: update.state,
      type: update.type,
      lastUpdateTime: timestamp(now),
      ...(update.errorCode ? { errorCode: update.errorCode } : {}),
    },
    currentStatus: {
      ...current,
      ...(phase ? { phase } : {}),
      timeoutActive,
      lastUpdateTime: phaseChanged || !current.lastUpdateTime ? timestamp(now) : current.lastUpdateTime,
    },
  };
}
