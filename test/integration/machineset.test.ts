import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Annotations, API_VERSION, Finalizers } from "../../src/api/constants.ts";
import { MachineResources } from "../../src/api/resources.ts";
import type { Machine } from "../../src/api/v1alpha1/machine.ts";
import type { MachineSet } from "../../src/api/v1alpha1/machineset.ts";
import { eventually, failureStatus, testNamespace } from "../env/index.ts";
import { createWorkerClass, type MachineRig, startMachineRig } from "../env/machines.ts";
import { isLive, phaseOf, runningLive } from "../env/deployments.ts";

let ns: string;
let rig: MachineRig;

beforeAll(async () => {
  ns = await testNamespace("machinesets");
  // Without the overshooting guard, which would unfreeze a set frozen by hand below its limit (as MCM).
  rig = await startMachineRig(ns, {}, { safety: { overshootPeriodMs: 0 } });
  await createWorkerClass(rig.client, ns);
}, 60_000);

afterAll(async () => {
  await rig.stop();
});

const machinesOfSet = async (set: string): Promise<Machine[]> =>
  (await rig.client.list<Machine>(MachineResources.machines, ns, { labelSelector: `set=${set}` })).items;
const getSet = (name: string): Promise<MachineSet> => rig.client.get(MachineResources.machineSets, ns, name);
/** A MachineSet `name` of machines labelled set=<name>, of the class "small". */
const createSet = (name: string, replicas: number, labels: Record<string, string> = {}) =>
  rig.client.create(MachineResources.machineSets, {
    apiVersion: API_VERSION,
    kind: "MachineSet",
    metadata: { name, namespace: ns, labels },
    spec: {
      replicas,
      selector: { matchLabels: { set: name } },
      template: {
        metadata: { labels: { set: name } },
        spec: { class: { kind: "MachineClass", name: "small" } },
      },
    },
  });
const scale = (name: string, replicas: number) =>
  rig.client.patch(MachineResources.machineSets, ns, name, { spec: { replicas } });

describe("MachineSet controller", () => {
  it("scales 0 → 20 → 5, deleting the machines with priority 1 first, and reports status", async () => {
    await createSet("pool", 0);
    await eventually(async () =>
      expect((await getSet("pool")).metadata?.finalizers).toContain(Finalizers.machineControllerManager),
    );
    await scale("pool", 20);
    await eventually(async () => expect(runningLive(await machinesOfSet("pool"))).toHaveLength(20), {
      timeoutMs: 90_000,
    });
    await eventually(async () =>
      expect((await getSet("pool")).status).toMatchObject({
        replicas: 20,
        fullyLabeledReplicas: 20,
        readyReplicas: 20,
        availableReplicas: 20,
        labelSelector: "set=pool",
      }),
    );
    const machines = await machinesOfSet("pool");
    expect(new Set(machines.map((m) => m.metadata?.name)).size).toBe(20);
    const chosen = machines.slice(7, 10).map((m) => m.metadata?.name ?? "");
    for (const name of chosen) {
      await rig.client.patch(MachineResources.machines, ns, name, {
        metadata: { annotations: { [Annotations.machinePriority]: "1" } },
      });
    }
    await eventually(() => {
      const cached = chosen.map((n) => rig.controllers.machineSets.machines.store.get(`${ns}/${n}`));
      expect(cached.every((m) => m?.metadata?.annotations?.[Annotations.machinePriority] === "1")).toBe(true);
    });
    // Three fewer: exactly the three with priority 1 go (by chance: 1 in 1140).
    await scale("pool", 17);
    await eventually(async () => expect((await machinesOfSet("pool")).filter(isLive)).toHaveLength(17), {
      timeoutMs: 30_000,
    });
    const left = (await machinesOfSet("pool")).filter(isLive).map((m) => m.metadata?.name ?? "");
    expect(left.sort()).toEqual(
      machines
        .map((m) => m.metadata?.name ?? "")
        .filter((n) => !chosen.includes(n))
        .sort(),
    );
    await scale("pool", 5);
    await eventually(async () => expect((await machinesOfSet("pool")).filter(isLive)).toHaveLength(5), {
      timeoutMs: 30_000,
    });
    await eventually(async () => expect(await machinesOfSet("pool")).toHaveLength(5), { timeoutMs: 60_000 });
    expect(await rig.cloud.findVms({})).toHaveLength(5);
  }, 180_000);

  it("adopts a matching orphan and releases a machine whose labels no longer match", async () => {
    await rig.client.create(MachineResources.machines, {
      apiVersion: API_VERSION,
      kind: "Machine",
      metadata: { name: "stray", namespace: ns, labels: { set: "adopt" } },
      spec: { class: { kind: "MachineClass", name: "small" } },
    });
    await createSet("adopt", 1);
    const owner = async () =>
      (await rig.client.get<Machine>(MachineResources.machines, ns, "stray")).metadata?.ownerReferences?.[0];
    await eventually(async () =>
      expect(await owner()).toMatchObject({ kind: "MachineSet", name: "adopt", controller: true }),
    );
    // One replica wanted and one adopted: nothing else is created.
    await eventually(
      async () => expect(phaseOf((await machinesOfSet("adopt"))[0] ?? ({} as Machine))).toBe("Running"),
      { timeoutMs: 30_000 },
    );
    expect(await machinesOfSet("adopt")).toHaveLength(1);

    await rig.client.patch(MachineResources.machines, ns, "stray", { metadata: { labels: { set: "gone" } } });
    await eventually(async () => expect(await owner()).toBeUndefined());
    await eventually(async () => expect(runningLive(await machinesOfSet("adopt"))).toHaveLength(1), {
      timeoutMs: 30_000,
    });
    expect((await machinesOfSet("adopt"))[0]?.metadata?.name).not.toBe("stray");
    await rig.client.delete(MachineResources.machines, ns, "stray");
  }, 90_000);

  it("creates nothing while frozen, and deleting the set deletes its machines first", async () => {
    await createSet("frozen", 2, { freeze: "True" });
    await eventually(async () => expect((await getSet("frozen")).status?.replicas).toBe(0));
    // A fence: a later change of spec, and the controller has synced the set again since.
    const changed = await rig.client.patch<MachineSet>(MachineResources.machineSets, ns, "frozen", {
      spec: { minReadySeconds: 1 },
    });
    const generation = changed.metadata?.generation ?? 0;
    expect(generation).toBeGreaterThan(1);
    await eventually(async () =>
      expect((await getSet("frozen")).status?.observedGeneration).toBeGreaterThanOrEqual(generation),
    );
    expect(await machinesOfSet("frozen")).toHaveLength(0);
    await rig.client.patch(MachineResources.machineSets, ns, "frozen", {
      metadata: { labels: { freeze: null } },
    });
    await eventually(async () => expect(runningLive(await machinesOfSet("frozen"))).toHaveLength(2), {
      timeoutMs: 30_000,
    });
    await rig.client.delete(MachineResources.machineSets, ns, "frozen");
    await eventually(async () => expect(await failureStatus(getSet("frozen"))).toBe(404), {
      timeoutMs: 60_000,
    });
    expect(await machinesOfSet("frozen")).toHaveLength(0);
  }, 120_000);
});
