import { describe, expect, it } from "vitest";
import type { Machine } from "../../api/v1alpha1/machine.ts";
import {
  creationTimeoutOf,
  defaultMachineControllerConfig,
  evictDeadlineOf,
  healthTimeoutOf,
  invalidTimeouts,
  nodeConditionsOf,
} from "./config.ts";
import { isHealthy } from "./health.ts";

const config = defaultMachineControllerConfig("ns");
const machine = (spec: Partial<Machine["spec"]> = {}, annotations: Record<string, string> = {}): Machine => ({
  metadata: { name: "m", annotations },
  spec: { class: { kind: "MachineClass", name: "c" }, ...spec },
});

describe("per-machine settings", () => {
  it("takes the creation timeout from the annotation, then spec, then the flag", () => {
    expect(creationTimeoutOf(machine(), config)).toBe(20 * 60_000);
    expect(creationTimeoutOf(machine({ creationTimeout: "5m" }), config)).toBe(5 * 60_000);
    const annotated = machine(
      { creationTimeout: "5m" },
      { "node.machine.sapcloud.io/effective-creation-timeout": "30m" },
    );
    expect(creationTimeoutOf(annotated, config)).toBe(30 * 60_000);
  });

  it("ignores a stored timeout that is negative, zero where zero is harmful, or unparsable, and says so", () => {
    const bad = machine({ creationTimeout: "-5m", healthTimeout: "0s", drainTimeout: "soon" });
    expect(creationTimeoutOf(bad, config)).toBe(config.creationTimeoutMs);
    expect(healthTimeoutOf(bad, config)).toBe(config.healthTimeoutMs);
    expect(evictDeadlineOf(bad, config)).toBe(
      Math.min(config.drainTimeoutMs, config.maxEvictRetries * 20_000),
    );
    expect(invalidTimeouts(bad)).toEqual([
      'spec.creationTimeout "-5m" is not a duration greater than zero; --machine-creation-timeout applies instead',
      'spec.healthTimeout "0s" is not a duration greater than zero; --machine-health-timeout applies instead',
      'spec.drainTimeout "soon" is not a duration of zero or more; --machine-drain-timeout applies instead',
    ]);
    expect(
      invalidTimeouts(machine({ creationTimeout: "5m", healthTimeout: "1s", drainTimeout: "0" })),
    ).toEqual([]);
  });

  it("forces a drain after the drain timeout or maxEvictRetries × 20 s, whichever is first", () => {
    expect(evictDeadlineOf(machine(), config)).toBe(2 * 3_600_000);
    expect(evictDeadlineOf(machine({ maxEvictRetries: 3 }), config)).toBe(60_000);
    expect(evictDeadlineOf(machine({ drainTimeout: "30s", maxEvictRetries: 10 }), config)).toBe(30_000);
  });

  it("reads node conditions from spec or the flag", () => {
    expect(nodeConditionsOf(machine(), config)).toContain("KernelDeadlock");
    expect(
      nodeConditionsOf(machine({ nodeConditions: "FrequentKubeletRestart, DiskPressure" }), config),
    ).toEqual(["FrequentKubeletRestart", "DiskPressure"]);
  });
});

describe("isHealthy", () => {
  const c = (type: string, status: string) => ({ type, status });
  it.each([
    [[c("Ready", "True")], true],
    [[c("Ready", "True"), c("KernelDeadlock", "False")], true],
    [[c("Ready", "True"), c("KernelDeadlock", "True")], false],
    [[c("Ready", "True"), c("DiskPressure", "Unknown")], false],
    [[c("Ready", "True"), c("SomethingElse", "True")], true],
    [[c("Ready", "False")], false],
    [[c("Ready", "Unknown")], false],
    [[], false],
  ])("%j → %s", (conditions, healthy) => {
    expect(isHealthy(conditions, config.nodeConditions)).toBe(healthy);
  });
});
