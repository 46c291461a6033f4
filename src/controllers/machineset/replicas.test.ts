import { describe, expect, it } from "vitest";
import { Annotations, Labels } from "../../api/constants.ts";
import type { Machine } from "../../api/v1alpha1/machine.ts";
import type { MachineSet } from "../../api/v1alpha1/machineset.ts";
import type { SetDeps } from "./deps.ts";
import { createMachines, deletionOrder, machineFor, planReplicas } from "./replicas.ts";

const machine = (
  name: string,
  phase: string,
  opts: { created?: string; annotations?: Record<string, string> } = {},
): Machine => ({
  metadata: {
    name,
    creationTimestamp: opts.created ?? "2026-01-01T00:00:00Z",
    ...(opts.annotations ? { annotations: opts.annotations } : {}),
  },
  spec: { class: { kind: "MachineClass", name: "c" } },
  status: { currentStatus: { phase: phase } },
});

const set = (replicas: number, extra: Partial<MachineSet["metadata"]> = {}): MachineSet => ({
  metadata: { name: "s", namespace: "ns", uid: "u1", ...extra },
  spec: {
    replicas,
    selector: { matchLabels: { a: "b" } },
    template: { metadata: { labels: { a: "b" } }, spec: { class: { kind: "MachineClass", name: "c" } } },
  },
});

const names = (ms: readonly Machine[]): string[] => ms.map((m) => m.metadata?.name ?? "");

describe("deletionOrder", () => {
  it("puts lower priority, then earlier marks, then earlier phases, then older machines first", () => {
    const ms = [
      machine("running-old", "Running", { created: "2026-01-01T00:00:00Z" }),
      machine("running-new", "Running", { created: "2026-01-02T00:00:00Z" }),
      machine("pending", "Pending"),
      machine("unknown", "Unknown"),
      machine("prio1", "Running", { annotations: { [Annotations.machinePriority]: "1" } }),
      machine("preserved", "Failed", { annotations: { [Annotations.preserve]: "now" } }),
      machine("marked", "Running", {
        annotations: {
          [Annotations.machinePriority]: "1",
          [Annotations.markedForDeletionTime]: "2026-01-01T00:00:00Z",
        },
      }),
    ];
    expect(names([...ms].sort(deletionOrder))).toEqual([
      "marked",
      "prio1",
      "unknown",
      "pending",
      "running-old",
      "running-new",
      "preserved",
    ]);
  });
});

describe("planReplicas", () => {
  it("creates what is missing, at most 100 per sync", () => {
    expect(planReplicas(set(3), [machine("a", "Running")])).toEqual({ create: 2, delete: [] });
    expect(planReplicas(set(500), []).create).toBe(100);
  });

  it("creates nothing while frozen or scale-up-disabled", () => {
    expect(planReplicas(set(3, { labels: { [Labels.freeze]: "True" } }), []).create).toBe(0);
    expect(planReplicas(set(3, { labels: { [Labels.scaleUpDisabled]: "true" } }), []).create).toBe(0);
  });

  it("deletes Failed machines and replaces them, and deletes the surplus in order", () => {
    const plan = planReplicas(set(2), [
      machine("ok-1", "Running"),
      machine("ok-2", "Running"),
      machine("broken", "Failed"),
    ]);
    expect(plan.create).toBe(0);
    expect(names(plan.delete)).toEqual(["broken"]);
    const surplus = planReplicas(set(1), [machine("run", "Running"), machine("pend", "Pending")]);
    expect(names(surplus.delete)).toEqual(["pend"]);
  });

  it("deletes machines the cluster-autoscaler marked at or before the set's last scaler change", () => {
    const marked = (name: string, at: string) =>
      machine(name, "Running", {
        annotations: { [Annotations.machinePriority]: "1", [Annotations.markedForDeletionTime]: at },
      });
    const s = set(2, { annotations: { [Annotations.lastReplicaChangeByScaler]: "2026-01-01T00:10:00Z" } });
    const plan = planReplicas(s, [
      marked("early", "2026-01-01T00:05:00Z"),
      marked("late", "2026-01-01T00:20:00Z"),
      machine("keep", "Running"),
    ]);
    expect(names(plan.delete)).toEqual(["early"]);
    expect(plan.create).toBe(0);
  });
});

describe("machineFor", () => {
  it("builds a machine from the template owned by the set, with the effective creation timeout", () => {
    const s = set(1, { annotations: { [Annotations.effectiveCreationTimeout]: "5m" } });
    const m = machineFor(s);
    expect(m.metadata).toMatchObject({
      generateName: "s-",
      namespace: "ns",
      labels: { a: "b" },
      annotations: { [Annotations.effectiveCreationTimeout]: "5m" },
      ownerReferences: [{ kind: "MachineSet", name: "s", uid: "u1", controller: true }],
    });
    expect(m.spec.creationTimeout).toBe("5m");
  });
});

describe("createMachines", () => {
  /** A client whose creates succeed until call `failAt` (1-based) and that sees the batches. */
  const fakeDeps = (failAt = Infinity) => {
    let calls = 0;
    let inFlight = 0;
    const ends: number[] = []; // the call count each time nothing was in flight: batch boundaries
    const client = {
      async create(_ref: unknown, obj: Machine): Promise<Machine> {
        const call = ++calls;
        inFlight++;
        await Promise.resolve();
        if (--inFlight === 0) ends.push(calls);
        if (call >= failAt) throw new Error("exceeded quota");
        return { ...obj, metadata: { ...obj.metadata, name: `m-${String(call)}` } };
      },
    };
    return {
      deps: { client } as unknown as SetDeps,
      batches: () => ends.map((e, i) => e - (ends[i - 1] ?? 0)),
      calls: () => calls,
    };
  };

  it("creates in slow-start batches of 1, 2, 4, 8, … up to the count", async () => {
    const f = fakeDeps();
    const out = await createMachines(set(0), 20, f.deps);
    expect(out.done).toHaveLength(20);
    expect(out.error).toBeUndefined();
    expect(f.batches()).toEqual([1, 2, 4, 8, 5]);
  });

  it("stops after the first failing batch", async () => {
    const f = fakeDeps(5);
    const out = await createMachines(set(0), 100, f.deps);
    // Batches 1 and 2 succeed; in the batch of 4 the second call (the 5th) fails: no further batch.
    expect(f.calls()).toBe(7);
    expect(out.done).toEqual(["m-1", "m-2", "m-3", "m-4"]);
    expect(String(out.error)).toContain("exceeded quota");
  });
});
