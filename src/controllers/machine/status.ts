import type { MachineOperationState, MachineOperationType, MachinePhase } from "../../api/constants.ts";
import type { Machine, MachineStatus } from "../../api/v1alpha1/machine.ts";

/** metav1.Time as the apiserver writes it (second precision, UTC). */
export const timestamp = (ms: number): string => new Date(ms).toISOString().replace(/\.\d+Z$/, "Z");

export interface OperationUpdate {
  readonly phase?: MachinePhase;
  readonly type: MachineOperationType;
  readonly state: MachineOperationState;
  readonly description: string;
  readonly errorCode?: string;
  readonly timeoutActive?: boolean;
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
  return {
    ...status,
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

/** When the machine entered its current phase (ms), or undefined. */
export function phaseSince(machine: Machine): number | undefined {
  const t = machine.status?.currentStatus?.lastUpdateTime;
  return t ? Date.parse(t) : undefined;
}

export const phaseOf = (machine: Machine): string => machine.status?.currentStatus?.phase ?? "";
