import { describe, expect, it } from "vitest";
import { Annotations } from "../../api/constants.ts";
import type { Machine } from "../../api/v1alpha1/machine.ts";
import type { MachineSet } from "../../api/v1alpha1/machineset.ts";
import { setStatus } from "./status.ts";

const NOW = Date.parse("2026-01-01T01:00:00Z");

const set: MachineSet = {
  metadata: { name: "s", namespace: "ns", generation: 4 },
  spec: {
    replicas: 3,
    selector: { matchLabels: { a: "b" } },
    template: { metadata: { labels: { a: "b" } }, spec: { class: { kind: "MachineClass", name: "c" } } },
  },
};

const machine = (name: string, state: "Successful" | "Failed", annotations: Record<string, string> = {}) =>
  ({
    metadata: { name, labels: { a: "b" }, annotations },
    spec: { class: { kind: "MachineClass", name: "c" }, providerID: `virtual:///z/${name}` },
    status: {
      currentStatus: { phase: state === "Failed" ? "Failed" : "Running" },
      lastOperation: { type: "Create", state, description: state === "Failed" ? "quota" : "ok" },
    },
  }) as Machine;

describe("setStatus", () => {
  it("lists failed machines (not preserved ones) with their last operation and owner", () => {
    const { status } = setStatus(
      set,
      [
        machine("ok", "Successful"),
        machine("bad", "Failed"),
        machine("kept", "Failed", { [Annotations.preserve]: "now" }),
      ],
      undefined,
      NOW,
    );
    expect(status.replicas).toBe(3);
    expect(status.fullyLabeledReplicas).toBe(3);
    expect(status.observedGeneration).toBe(4);
    expect(status.labelSelector).toBe("a=b");
    expect(status.failedMachines).toEqual([
      {
        name: "bad",
        providerID: "virtual:///z/bad",
        lastOperation: { type: "Create", state: "Failed", description: "quota" },
        ownerRef: "s",
      },
    ]);
  });

  it("sets ReplicaFailure on a failed create, keeps its transition time, and clears it after", () => {
    const failure = { reason: "FailedCreate", message: "exceeded quota" } as const;
    const first = setStatus(set, [], failure, NOW).status;
    expect(first.machineSetCondition).toEqual([
      {
        type: "ReplicaFailure",
        status: "True",
        reason: "FailedCreate",
        message: "exceeded quota",
        lastTransitionTime: "2026-01-01T01:00:00Z",
      },
    ]);
    const again = setStatus({ ...set, status: first }, [], failure, NOW + 60_000).status;
    expect(again.machineSetCondition?.[0]?.lastTransitionTime).toBe("2026-01-01T01:00:00Z");
    const cleared = setStatus({ ...set, status: again }, [machine("ok", "Successful")], undefined, NOW);
    expect(cleared.status.machineSetCondition).toBeUndefined();
    expect(cleared.status.failedMachines).toBeUndefined();
  });
});
