import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Annotations, Finalizers, Labels } from "../../src/api/constants.ts";
import { MachineResources } from "../../src/api/resources.ts";
import type { Machine } from "../../src/api/v1alpha1/machine.ts";
import type { NodeObject } from "../../src/api/core.ts";
import { Resources } from "../../src/runtime/client/resources.ts";
import { eventually, failureStatus, testNamespace, uniqueName } from "../env/index.ts";
import { createVirtualClass, createWorkerClass, type MachineRig, startMachineRig } from "../env/machines.ts";

let ns: string;
let rig: MachineRig;

beforeAll(async () => {
  ns = await testNamespace("machines");
  rig = await startMachineRig(ns);
  await createWorkerClass(rig.client, ns, {
    userData: "#cloud-config\ntoken: <<BOOTSTRAP_TOKEN>>\nname: <<MACHINE_NAME>>\n",
    providerSpec: { machineType: "small", zone: "zone-a", tags: { "kubernetes.io/cluster/test": "1" } },
  });
}, 60_000);

afterAll(async () => {
  await rig.stop();
});

const newMachine = async (spec: Record<string, unknown> = {}, className = "small"): Promise<string> => {
  const name = uniqueName("m");
  await rig.client.create(MachineResources.machines, {
    apiVersion: "machine.sapcloud.io/v1alpha1",
    kind: "Machine",
    metadata: { name, namespace: ns },
    spec: { class: { kind: "MachineClass", name: className }, ...spec },
  });
  return name;
};
const recordedTokenId = (m: Machine): string => m.metadata?.annotations?.[Annotations.bootstrapTokenId] ?? "";
const get = (name: string): Promise<Machine> => rig.client.get<Machine>(MachineResources.machines, ns, name);
const phase = async (name: string): Promise<string | undefined> =>
  (await get(name)).status?.currentStatus?.phase;

describe("machine controller on the virtual cloud", () => {
  it("creates a VM, joins its Node, notices it failing, and deletes everything in order", async () => {
    const name = await newMachine({ healthTimeout: "3s" });
    await eventually(async () => expect(await phase(name)).toBe("Running"), { timeoutMs: 30_000 });
    const machine = await get(name);
    expect(machine.metadata?.finalizers).toContain(Finalizers.machineControllerManager);
    expect(machine.metadata?.labels?.[Labels.node]).toBe(name);
    expect(machine.spec.providerID).toMatch(/^virtual:\/\/\/zone-a\/vm-/);
    expect(machine.status?.lastOperation).toMatchObject({ type: "Create", state: "Successful" });
    expect(machine.status?.lastOperation?.description).toContain(
      `Machine ${name} successfully joined the cluster in`,
    );
    expect(machine.status?.conditions?.find((c) => c.type === "Ready")?.status).toBe("True");
    const condition = async (type: string) =>
      (await get(name)).status?.machineConditions?.find((c) => c.type === type);
    expect(await condition("VMCreated")).toMatchObject({ status: "True", reason: "Created" });
    expect(await condition("NodeJoined")).toMatchObject({ status: "True", reason: "Joined" });
    expect(await condition("Healthy")).toMatchObject({ status: "True", reason: "NodeHealthy" });

    const [vm] = await rig.cloud.findVms({ name });
    const userData = Buffer.from(vm?.userData ?? "", "base64").toString();
    expect(userData).toContain(`name: ${name}`);
    const tokenId = recordedTokenId(machine);
    expect(tokenId).toMatch(/^[a-z0-9]{6}$/);
    expect(userData).toMatch(new RegExp(`token: ${tokenId}\\.[0-9a-z]{16}`));
    expect(userData).not.toContain("<<");
    expect(
      await failureStatus(rig.client.get(Resources.secrets, "kube-system", `bootstrap-token-${tokenId}`)),
    ).toBe(404);
    const node = await rig.client.get<NodeObject>(Resources.nodes, undefined, name);
    expect(node.metadata?.labels?.[Labels.nodeMachineName]).toBe(name);

    await rig.sim.makeNotReady(name);
    await eventually(async () => expect(await phase(name)).toBe("Unknown"), { timeoutMs: 20_000 });
    expect(await condition("Healthy")).toMatchObject({ status: "False", reason: "NodeUnhealthy" });
    await eventually(async () => expect(await phase(name)).toBe("Failed"), { timeoutMs: 20_000 });
    expect(await condition("Healthy")).toMatchObject({ status: "False", reason: "HealthTimeout" });

    await rig.client.delete(MachineResources.machines, ns, name);
    await eventually(async () => expect(await failureStatus(get(name))).toBe(404), { timeoutMs: 30_000 });
    expect(await rig.cloud.findVms({ name })).toEqual([]);
    await eventually(async () =>
      expect(await failureStatus(rig.client.get(Resources.nodes, undefined, name))).toBe(404),
    );
  });

  it("reports a missing class on the Machine and an Event, and other machines are unaffected", async () => {
    const broken = await newMachine({}, "no-such-class");
    const fine = await newMachine();
    await eventually(async () => {
      const m = await get(broken);
      expect(m.status?.lastOperation).toMatchObject({ state: "Failed", errorCode: "NotFound" });
      expect(m.status?.lastOperation?.description).toContain(
        `MachineClass ${ns}/no-such-class (spec.class.name) does not exist`,
      );
    });
    await eventually(async () => {
      const events = await rig.client.list<{ reason?: string; regarding?: { name?: string } }>(
        Resources.events,
        ns,
      );
      expect(events.items.some((e) => e.reason === "InvalidClass" && e.regarding?.name === broken)).toBe(
        true,
      );
    });
    await eventually(async () => expect(await phase(fine)).toBe("Running"), { timeoutMs: 30_000 });
    await rig.client.delete(MachineResources.machines, ns, broken);
    await rig.client.delete(MachineResources.machines, ns, fine);
  });
});

describe("machine deletion on a stale cache", () => {
  /** The manager's count of a controller's reconciles, by result ("" for all). */
  const reconciles = async (controller: string, result = ""): Promise<number> =>
    (await rig.manager.metrics.reconcileTotal.get()).values
      .filter((v) => v.labels.controller === controller && (!result || v.labels.result === result))
      .reduce((sum, v) => sum + v.value, 0);

  it("takes a machine that is already gone for deleted, not for a failed reconcile", async () => {
    const name = await newMachine();
    const key = `${ns}/${name}`;
    const store = rig.controller.machines.store;
    await eventually(async () => expect(await phase(name)).toBe("Running"), { timeoutMs: 30_000 });
    // A cached copy from the middle of its deletion, the finalizer still on, as a reconcile queued by
    // the deletion's own writes can see it after the machine is gone.
    let stale: Machine | undefined;
    rig.controller.machines.addHandler({
      update: (_, m) => {
        if (m.metadata?.name === name && m.metadata.deletionTimestamp) stale ??= m;
      },
    });
    await rig.client.delete(MachineResources.machines, ns, name);
    await eventually(() => expect(store.get(key)).toBeUndefined(), { timeoutMs: 30_000 });
    expect(stale?.metadata?.finalizers).toContain(Finalizers.machineControllerManager);
    const [runs, failures] = [
      await reconciles("machine-termination"),
      await reconciles("machine-termination", "error"),
    ];
    store.upsert(stale as Machine & { metadata: { name: string } });
    try {
      // Any change of the class queues its machines, the stale one among them.
      await rig.client.patch(MachineResources.machineClasses, ns, "small", {
        metadata: { annotations: { touched: uniqueName("t") } },
      });
      await eventually(async () => expect(await reconciles("machine-termination")).toBeGreaterThan(runs));
      expect(await reconciles("machine-termination", "error")).toBe(failures);
      expect(await rig.cloud.findVms({ name })).toHaveLength(0);
    } finally {
      store.delete(stale as Machine & { metadata: { name: string } });
    }
  }, 60_000);
});

describe("machine controller input problems", () => {
  it("reports a class whose Secret is missing, and creates the machine once the Secret appears", async () => {
    await createVirtualClass(rig.client, ns, "late-secret", { secretRef: "late" });
    const name = await newMachine({}, "late-secret");
    await eventually(async () => {
      const m = await get(name);
      expect(m.status?.lastOperation).toMatchObject({ state: "Failed", errorCode: "NotFound" });
      expect(m.status?.lastOperation?.description).toContain(
        `Secret ${ns}/late referenced by MachineClass late-secret does not exist`,
      );
    });
    expect(await rig.cloud.findVms({ name })).toEqual([]);
    await rig.client.create(Resources.secrets, {
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: "late", namespace: ns },
      stringData: { userData: "#cloud-config\n" },
    });
    await eventually(async () => expect(await phase(name)).toBe("Running"), { timeoutMs: 30_000 });
    await rig.client.delete(MachineResources.machines, ns, name);
  });
});

describe("machine class secrets", () => {
  it("merges credentialsSecretRef over secretRef (its keys win)", async () => {
    await rig.client.create(Resources.secrets, {
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: "creds", namespace: ns },
      stringData: { userData: "#cloud-config\nfrom: credentials <<MACHINE_NAME>>\n" },
    });
    await createVirtualClass(rig.client, ns, "merged", {
      secretRef: "worker",
      credentialsSecretRef: "creds",
    });
    const name = await newMachine({}, "merged");
    const vm = await eventually(async () => {
      const [found] = await rig.cloud.findVms({ name });
      expect(found).toBeDefined();
      return found;
    });
    expect(Buffer.from(vm?.userData ?? "", "base64").toString()).toBe(
      `#cloud-config\nfrom: credentials ${name}\n`,
    );
    await rig.client.delete(MachineResources.machines, ns, name);
  });
});

describe("machine controller timeouts", () => {
  it("fails a machine whose Node never joins within its creation timeout", async () => {
    const name = await newMachine({ creationTimeout: "3s" });
    await rig.sim.vanish(name);
    await eventually(
      async () => {
        const m = await get(name);
        expect(m.status?.currentStatus?.phase).toBe("Failed");
        expect(m.status?.lastOperation?.description).toBe(
          `Machine ${name} failed to join the cluster in 3s.`,
        );
      },
      { timeoutMs: 30_000 },
    );
    await rig.client.delete(MachineResources.machines, ns, name);
    await eventually(async () => expect(await failureStatus(get(name))).toBe(404), { timeoutMs: 30_000 });
    expect(await rig.cloud.findVms({ name })).toEqual([]);
  });
});
