/** Settings of the safety controller; flag names and defaults are MCM's (docs/contracts/flags.md). */
export interface SafetyConfig {
  /** --machine-safety-orphan-vms-period: how often each class's VMs are listed. 0 turns it off. Default 15 min. */
  readonly orphanPeriodMs: number;
  /**
   * How young a Machine's creation may be for a VM of its name to count as still being made rather
   * than as a duplicate. Default 2 min.
   */
  readonly orphanGraceMs: number;
  /** --safety-up: machines above replicas (and surge) before a set is frozen. Default 2. */
  readonly safetyUp: number;
  /** --safety-down: how far below the freeze limit a frozen set is unfrozen. Default 1. */
  readonly safetyDown: number;
  /** --machine-safety-overshooting-period: how often sets are checked. 0 turns it off. Default 1 min. */
  readonly overshootPeriodMs: number;
  /** --machine-safety-apiserver-statuscheck-timeout: unreachable this long freezes. Default 30 s. */
  readonly statusCheckTimeoutMs: number;
  /** --machine-safety-apiserver-statuscheck-period: how often the apiservers are probed. 0 turns it off. Default 1 min. */
  readonly statusCheckPeriodMs: number;
}

export const DEFAULT_SAFETY_CONFIG: SafetyConfig = {
  orphanPeriodMs: 15 * 60_000,
  orphanGraceMs: 2 * 60_000,
  safetyUp: 2,
  safetyDown: 1,
  overshootPeriodMs: 60_000,
  statusCheckTimeoutMs: 30_000,
  statusCheckPeriodMs: 60_000,
};
