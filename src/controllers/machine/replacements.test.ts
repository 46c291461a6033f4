import { describe, expect, it } from "vitest";
import type { Machine } from "../../api/v1alpha1/machine.ts";
import type { MachineDeployment } from "../../api/v1alpha1/machinedeployment.ts";
import { Indexers, ObjectStore } from "../../runtime/cache/store.ts";
import type { KubeObject } from "../../runtime/client/client.ts";
import { realClock } from "../../runtime/clock.ts";
import { DEPLOYMENT_INDEX, ReplacementPermits } from "./replacements.ts";

const machine = (name: string, phase: string): Machine & KubeObject => ({
  metadata: { name, namespace: "ns", labels: { name: "pool" } },
  spec: { class: { kind: "MachineClass", name: "c" } },
  status: { currentStatus: { phase } },
});

function setup(maxReplacements?: number | string) {
  const machines = new ObjectStore<Machine & KubeObject>({ [DEPLOYMENT_INDEX]: Indexers.label("name") });
  const deployments = new ObjectStore<MachineDeployment & KubeObject>({});
  deployments.upsert({
    metadata: { name: "pool", namespace: "ns" },
    spec: {
      replicas: 10,
      template: {},
      ...(maxReplacements === undefined ? {} : { maxReplacements }),
    },
  });
  let now = 0;
  const permits = new ReplacementPermits(machines, deployments, { ...realClock, now: () => now });
  return { machines, permits, advance: (ms: number) => (now += ms) };
}

describe("ReplacementPermits", () => {
  it("grants at most maxReplacements at once, even before the cache shows the first ones Failed", () => {
    const { machines, permits } = setup(2);
    const sick = ["a", "b", "c"].map((n) => machine(n, "Unknown"));
    for (const m of sick) machines.upsert(m);
    const [a, b, c] = sick as [Machine, Machine, Machine];
    expect(permits.permit(a).allowed).toBe(true);
    expect(permits.permit(b).allowed).toBe(true);
    const third = permits.permit(c);
    expect(third.allowed).toBe(false);
    expect(third.message).toContain("maxReplacements 2");
    // A machine asking again keeps its own permit.
    expect(permits.permit(a).allowed).toBe(true);
  });

  it("counts machines being created or deleted, and frees permits when they are gone", () => {
    const { machines, permits } = setup();
    machines.upsert(machine("new", "Pending"));
    machines.upsert(machine("sick", "Unknown"));
    expect(permits.permit(machine("sick", "Unknown")).allowed).toBe(false);
    machines.upsert(machine("new", "Running"));
    expect(permits.permit(machine("sick", "Unknown")).allowed).toBe(true);
  });

  it("resolves percentages against replicas, rounding down but never below 1, and expires stale permits", () => {
    const { machines, permits, advance } = setup("25%");
    const sick = ["a", "b", "c"].map((n) => machine(n, "Unknown"));
    for (const m of sick) machines.upsert(m);
    expect(sick.map((m) => permits.permit(m).allowed)).toEqual([true, true, false]);
    advance(61_000);
    expect(permits.permit(machine("c", "Unknown")).allowed).toBe(true);
  });
});
