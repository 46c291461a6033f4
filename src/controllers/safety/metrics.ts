import { Counter, Gauge, type Registry } from "prom-client";

/** The safety controller's metrics, defined once (docs/contracts/metrics.md lists them). */
export const SafetyMetricNames = {
  /** MCM's: 1 while the machine controller is frozen because an apiserver is unreachable. */
  frozen: "mcm_machine_controller_frozen",
  orphanVms: "sprout_safety_orphan_vms_total",
  orphanScans: "sprout_safety_orphan_scans_total",
  vanishedVms: "sprout_safety_vanished_vms_total",
  frozenSets: "sprout_safety_frozen_machine_sets",
  apiServerChecks: "sprout_safety_apiserver_checks_total",
} as const;

/**
 * The metrics on one registry; the parts of the safety controller share them (a second
 * registration on a registry reuses what is there).
 */
export class SafetyMetrics {
  readonly frozen: Gauge;
  readonly orphanVms: Counter<"provider" | "result">;
  readonly orphanScans: Counter<"provider" | "result">;
  readonly vanishedVms: Counter<"provider">;
  readonly frozenSets: Gauge;
  readonly apiServerChecks: Counter<"cluster" | "result">;

  constructor(registry: Registry) {
    const registers = [registry];
    const counter = <L extends string>(name: string, help: string, labelNames: readonly L[]): Counter<L> =>
      (registry.getSingleMetric(name) as Counter<L> | undefined) ??
      new Counter({ name, help, labelNames, registers });
    const gauge = (name: string, help: string): Gauge =>
      (registry.getSingleMetric(name) as Gauge | undefined) ?? new Gauge({ name, help, registers });
    this.frozen = gauge(SafetyMetricNames.frozen, "Frozen status of the machine controller.");
    this.orphanVms = counter(
      SafetyMetricNames.orphanVms,
      "VMs of the cluster without a Machine, by what was done: collected, failed, duplicate.",
      ["provider", "result"],
    );
    this.orphanScans = counter(
      SafetyMetricNames.orphanScans,
      "Orphan VM scans of a MachineClass, by result: success or error.",
      ["provider", "result"],
    );
    this.vanishedVms = counter(
      SafetyMetricNames.vanishedVms,
      "Machines whose VM the provider no longer has.",
      ["provider"],
    );
    this.frozenSets = gauge(SafetyMetricNames.frozenSets, "MachineSets frozen for overshooting.");
    this.apiServerChecks = counter(
      SafetyMetricNames.apiServerChecks,
      "Apiserver status checks, by cluster (control, target) and result (ok, unreachable).",
      ["cluster", "result"],
    );
  }
}
