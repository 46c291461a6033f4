import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { API_VERSION, Labels, SafetyReasons } from "../../src/api/constants.ts";
import { MachineResources } from "../../src/api/resources.ts";
import type { Machine } from "../../src/api/v1alpha1/machine.ts";
import type { MachineDeployment } from "../../src/api/v1alpha1/machinedeployment.ts";
import type { MachineSet } from "../../src/api/v1alpha1/machineset.ts";
import { createDeployment, machinesOf, patchDeployment, runningLive, setsOf } from "../env/deployments.ts";
import { eventually, testNamespace } from "../env/index.ts";
import { createWorkerClass, type MachineRig, startMachineRig } from "../env/machines.ts";
import { eventsOf } from "../env/safety.ts";

/** Checked every second; --safety-down 2 keeps a set frozen while a deployment is scaled by one. */
const SAFETY = { overshootPeriodMs: 1000, safetyUp: 2, safetyDown: 2 };

describe("overshooting safety on the real apiserver", () => {
  let ns: string;
  let rig: MachineRig;

  beforeAll(async () => {
    ns = await testNamespace("overshoot");
    rig = await startMachineRig(ns, {}, { safety: SAFETY });
    await createWorkerClass(rig.client, ns, { providerSpec: { machineType: "small" } });
  }, 60_000);

  afterAll(async () => {
    await rig.stop();
  });

  const theSet = async (): Promise<MachineSet> => {
    const sets = await setsOf(rig.client, ns, "pool");
    expect(sets).toHaveLength(1);
    return sets[0] as MachineSet;
  };
  const deployment = (): Promise<MachineDeployment> =>
    rig.client.get<MachineDeployment>(MachineResources.machineDeployments, ns, "pool");

  it("freezes a set and its deployment at the limit, creates nothing while frozen, and unfreezes below it", async () => {
    // replicas 1, maxSurge 25% (1): frozen at 1 + 1 + 2 = 4 machines.
    await createDeployment(rig.client, ns, "pool", { replicas: 1, className: "small" });
    await eventually(
      async () => expect(runningLive(await machinesOf(rig.client, ns, "pool"))).toHaveLength(1),
      {
        timeoutMs: 60_000,
      },
    );
    const set = await theSet();
    // Three more machines that name the set as an owner (not as their controller, and without its
    // labels, so the set neither adopts nor deletes them): the set now backs 4 machines.
    const extra = ["x1", "x2", "x3"].map((name): Machine & { kind: string; apiVersion: string } => ({
      apiVersion: API_VERSION,
      kind: "Machine",
      metadata: {
        name: `${set.metadata?.name}-${name}`,
        namespace: ns,
        ownerReferences: [
          {
            apiVersion: API_VERSION,
            kind: "MachineSet",
            name: set.metadata?.name ?? "",
            uid: set.metadata?.uid ?? "",
          },
        ],
      },
      spec: { class: { kind: "MachineClass", name: "small" } },
    }));
    for (const m of extra) await rig.client.create(MachineResources.machines, m);

    await eventually(async () => {
      const s = await theSet();
      expect(s.metadata?.labels?.[Labels.freeze]).toBe("True");
      expect(s.status?.machineSetCondition?.find((c) => c.type === "Frozen")?.reason).toBe(
        "OverShootingReplicaCount",
      );
      const d = await deployment();
      expect(d.metadata?.labels?.[Labels.freeze]).toBe("True");
      expect(d.status?.conditions?.find((c) => c.type === "Frozen")?.status).toBe("True");
    });
    expect(await eventsOf(rig.client, ns, SafetyReasons.frozeSet)).toHaveLength(1);

    // Scaled to 2 (frozen at 5, unfrozen at 3): the set takes the new replicas and creates nothing.
    await patchDeployment(rig.client, ns, "pool", { spec: { replicas: 2 } });
    await eventually(async () => {
      const s = await theSet();
      expect(s.spec?.replicas).toBe(2);
      expect(s.status?.observedGeneration).toBe(s.metadata?.generation);
    });
    expect(await machinesOf(rig.client, ns, "pool")).toHaveLength(1);
    expect((await theSet()).metadata?.labels?.[Labels.freeze]).toBe("True");

    // One extra machine gone: 3 machines, the low limit. Unfrozen, the set makes its second machine.
    await rig.client.delete(MachineResources.machines, ns, extra[0]?.metadata?.name ?? "");
    await eventually(
      async () => {
        expect(runningLive(await machinesOf(rig.client, ns, "pool"))).toHaveLength(2);
        const s = await theSet();
        expect(s.metadata?.labels?.[Labels.freeze]).toBeUndefined();
        expect(s.status?.machineSetCondition?.find((c) => c.type === "Frozen")).toBeUndefined();
        expect((await deployment()).metadata?.labels?.[Labels.freeze]).toBeUndefined();
      },
      { timeoutMs: 60_000 },
    );
    expect(await eventsOf(rig.client, ns, SafetyReasons.unfrozeSet)).toHaveLength(1);
    for (const m of extra.slice(1))
      await rig.client.delete(MachineResources.machines, ns, m.metadata?.name ?? "");
  });
});
