import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  Annotations,
  Finalizers,
  Labels,
  MachineEventReasons,
  MachineSetConditions,
  SetEventReasons,
} from "../../src/api/constants.ts";
import { MachineResources } from "../../src/api/resources.ts";
import type { Machine } from "../../src/api/v1alpha1/machine.ts";
import type { MachineDeployment } from "../../src/api/v1alpha1/machinedeployment.ts";
import type { MachineSet } from "../../src/api/v1alpha1/machineset.ts";
import { Resources } from "../../src/runtime/client/resources.ts";
import { MALFORMED_OBJECT_REASON } from "../../src/runtime/events/recorder.ts";
import { createDeployment, isLive, machinesOf, patchDeployment, runningLive } from "../env/deployments.ts";
import { storeUnchecked } from "../env/etcd.ts";
import { eventually, failureStatus, testNamespace, uniqueName } from "../env/index.ts";
import { createVirtualClass, createWorkerClass, type MachineRig, startMachineRig } from "../env/machines.ts";

let ns: string;
let rig: MachineRig;

beforeAll(async () => {
  ns = await testNamespace("guards");
  rig = await startMachineRig(ns);
  await createWorkerClass(rig.client, ns);
  // User data without a bootstrap kubeconfig: the VM boots, its kubelet never joins.
  await rig.client.create(Resources.secrets, {
    apiVersion: "v1",
    kind: "Secret",
    metadata: { name: "nojoin", namespace: ns },
    stringData: { userData: "#cloud-config\ntoken: <<BOOTSTRAP_TOKEN>>\n" },
  });
  await createVirtualClass(rig.client, ns, "nojoin", { secretRef: "nojoin" });
}, 60_000);

afterAll(async () => {
  await rig.stop();
});

type EventLike = { reason?: string; regarding?: { name?: string; kind?: string }; note?: string };
const eventsAbout = async (name: string, reason: string): Promise<EventLike[]> =>
  (await rig.client.list<EventLike>(Resources.events, ns)).items.filter(
    (e) => e.reason === reason && e.regarding?.name === name,
  );
const getDeployment = (name: string): Promise<MachineDeployment> =>
  rig.client.get(MachineResources.machineDeployments, ns, name);
const waitRunning = (name: string, count: number) =>
  eventually(
    async () => {
      const live = (await machinesOf(rig.client, ns, name)).filter(isLive);
      expect(runningLive(live)).toHaveLength(count);
      return live;
    },
    { timeoutMs: 60_000 },
  );

describe("trigger-deletion-by-mcm", () => {
  it("a deployment's annotation naming another deployment's machine changes nothing there", async () => {
    await createDeployment(rig.client, ns, "ours", { replicas: 1, className: "small" });
    await createDeployment(rig.client, ns, "theirs", { replicas: 1, className: "small" });
    const [own] = await waitRunning("ours", 1);
    const [foreign] = await waitRunning("theirs", 1);
    const foreignName = foreign?.metadata?.name ?? "";
    const now = new Date().toISOString().replace(/\.\d+Z$/, "Z");
    await patchDeployment(rig.client, ns, "ours", {
      metadata: { annotations: { [Annotations.triggerDeletionByMCM]: `${foreignName}~${now}` } },
    });
    // The entry is pruned (the fact that the controller has handled it) with one Warning Event.
    await eventually(async () => {
      const d = await getDeployment("ours");
      expect(d.metadata?.annotations?.[Annotations.triggerDeletionByMCM]).toBeUndefined();
      expect(await eventsAbout("ours", SetEventReasons.triggerDeletionForeign)).toHaveLength(1);
    });
    const after = await rig.client.get<Machine>(MachineResources.machines, ns, foreignName);
    expect(after.metadata?.deletionTimestamp).toBeUndefined();
    expect(after.metadata?.annotations?.[Annotations.machinePriority]).not.toBe("1");
    expect(after.metadata?.annotations?.[Annotations.markedForDeletionTime]).toBeUndefined();
    const ours = (await machinesOf(rig.client, ns, "ours")).filter(isLive);
    expect(ours.map((m) => m.metadata?.name)).toEqual([own?.metadata?.name]);
  }, 120_000);
});

describe("bootstrap tokens", () => {
  it("a never-joined machine's deletion removes its token Secret", async () => {
    const name = uniqueName("nojoin");
    await rig.client.create(MachineResources.machines, {
      apiVersion: "machine.sapcloud.io/v1alpha1",
      kind: "Machine",
      metadata: { name, namespace: ns },
      spec: { class: { kind: "MachineClass", name: "nojoin" } },
    });
    const get = () => rig.client.get<Machine>(MachineResources.machines, ns, name);
    const tokenId = await eventually(async () => {
      const m = await get();
      expect(m.status?.currentStatus?.phase).toBe("Pending");
      const id = m.metadata?.annotations?.[Annotations.bootstrapTokenId] ?? "";
      expect(id).toMatch(/^[a-z0-9]{6}$/);
      return id;
    });
    const secret = await rig.client.get<{ metadata?: { labels?: Record<string, string> } }>(
      Resources.secrets,
      "kube-system",
      `bootstrap-token-${tokenId}`,
    );
    expect(secret.metadata?.labels?.[Labels.bootstrapTokenOwner]).toBe((await get()).metadata?.uid);
    await rig.client.delete(MachineResources.machines, ns, name);
    await eventually(async () => expect(await failureStatus(get())).toBe(404), { timeoutMs: 30_000 });
    expect(
      await failureStatus(rig.client.get(Resources.secrets, "kube-system", `bootstrap-token-${tokenId}`)),
    ).toBe(404);
  }, 60_000);
});

/**
 * Objects with selectors admission rejects are written straight into etcd (storeUnchecked), as an
 * object stored before the CRD tightened lies there: the CRDs are shared by every test file running
 * in parallel, so loosening them even briefly would let other files' invalid objects through.
 */
describe("selectors that do not select the template", () => {
  const INVALID = MachineSetConditions.reasons.invalidSelector;
  const template = {
    metadata: { labels: { pool: "p", zone: "a" } },
    spec: { class: { kind: "MachineClass", name: "small" } },
  };
  const cases: Record<string, unknown> = {
    "no-selector": undefined,
    "empty-selector": {},
    "unknown-operator": { matchExpressions: [{ key: "zone", operator: "Equals", values: ["a"] }] },
    unsatisfied: { matchExpressions: [{ key: "zone", operator: "NotIn", values: ["a"] }] },
  };
  const ownedBy = async (uid: string) =>
    (await rig.client.list<Machine>(MachineResources.machines, ns)).items.filter((m) =>
      m.metadata?.ownerReferences?.some((r) => r.uid === uid),
    );
  const storeSet = (name: string, selector: unknown, generation: number, uid?: string) =>
    storeUnchecked(MachineResources.machineSets, {
      metadata: { name, namespace: ns, generation, ...(uid ? { uid } : {}) },
      spec: { replicas: generation, template, ...(selector === undefined ? {} : { selector }) },
    });

  it("a MachineSet creates no machine: ReplicaFailure and exactly one Event, also after it changes", async () => {
    const uids = new Map<string, string>();
    for (const [name, selector] of Object.entries(cases)) uids.set(name, await storeSet(name, selector, 1));
    const refused = async (name: string, generation: number) => {
      const set = await rig.client.get<MachineSet>(MachineResources.machineSets, ns, name);
      expect(set.status?.observedGeneration).toBe(generation);
      const c = set.status?.machineSetCondition?.find((x) => x.type === "ReplicaFailure");
      expect(c).toMatchObject({ status: "True", reason: INVALID });
      expect(c?.message).toMatch(/^spec\.selector/);
      expect(await eventsAbout(name, INVALID)).toHaveLength(1);
    };
    for (const name of uids.keys()) await eventually(() => refused(name, 1));
    // A new generation (more replicas) is reconciled and still creates nothing, with no new Event.
    for (const [name, uid] of uids) await storeSet(name, cases[name], 2, uid);
    for (const name of uids.keys()) await eventually(() => refused(name, 2));
    for (const uid of uids.values()) expect(await ownedBy(uid)).toEqual([]);
  }, 60_000);

  it("a MachineDeployment whose selector does not select its template creates no MachineSet", async () => {
    const uid = await storeUnchecked(MachineResources.machineDeployments, {
      metadata: { name: "unselected", namespace: ns },
      spec: { replicas: 2, selector: cases.unsatisfied, template },
    });
    await eventually(async () => {
      const d = await getDeployment("unselected");
      const c = d.status?.conditions?.find((x) => x.type === "ReplicaFailure");
      expect(c).toMatchObject({ status: "True", reason: INVALID });
      expect(c?.message).toMatch(/does not select spec\.template/);
      expect(await eventsAbout("unselected", INVALID)).toHaveLength(1);
    });
    const sets = await rig.client.list<MachineSet>(MachineResources.machineSets, ns);
    expect(sets.items.filter((s) => s.metadata?.ownerReferences?.some((r) => r.uid === uid))).toEqual([]);
    // Fixed through the API: the condition goes and the deployment scales up.
    await patchDeployment(rig.client, ns, "unselected", {
      spec: { selector: { matchLabels: { pool: "p" }, matchExpressions: null } },
    });
    await eventually(
      async () => {
        const d = await getDeployment("unselected");
        expect(d.status?.conditions?.find((x) => x.type === "ReplicaFailure")).toBeUndefined();
        expect(d.status?.replicas).toBe(2);
      },
      { timeoutMs: 30_000 },
    );
  }, 60_000);
});

describe("malformed objects in the cache", () => {
  it("a Machine stored without spec.class is reported once and the cache keeps following the namespace", async () => {
    const name = uniqueName("noclass");
    await storeUnchecked(MachineResources.machines, { metadata: { name, namespace: ns }, spec: {} });
    await eventually(async () => {
      expect(await eventsAbout(name, MALFORMED_OBJECT_REASON)).toHaveLength(1);
      const m = await rig.client.get<Machine>(MachineResources.machines, ns, name);
      expect(m.status?.lastOperation?.description).toMatch(/^spec\.class\.name is missing/);
    });
    // Written after the malformed one: the machine cache still delivers it, and it runs.
    const fine = uniqueName("fine");
    await rig.client.create(MachineResources.machines, {
      apiVersion: "machine.sapcloud.io/v1alpha1",
      kind: "Machine",
      metadata: { name: fine, namespace: ns },
      spec: { class: { kind: "MachineClass", name: "small" } },
    });
    await eventually(
      async () =>
        expect(
          (await rig.client.get<Machine>(MachineResources.machines, ns, fine)).status?.currentStatus?.phase,
        ).toBe("Running"),
      { timeoutMs: 30_000 },
    );
    expect(await eventsAbout(name, MALFORMED_OBJECT_REASON)).toHaveLength(1);
  }, 60_000);
});

describe("node template the Node refuses", () => {
  it("gives the machine a condition and one Warning Event, and health checking goes on", async () => {
    const name = uniqueName("badtemplate");
    await rig.client.create(MachineResources.machines, {
      apiVersion: "machine.sapcloud.io/v1alpha1",
      kind: "Machine",
      metadata: { name, namespace: ns },
      spec: { class: { kind: "MachineClass", name: "small" }, healthTimeout: "10m" },
    });
    const get = () =>
      rig.client.get<Machine & { metadata: { name: string; namespace: string } }>(
        MachineResources.machines,
        ns,
        name,
      );
    await eventually(async () => expect((await get()).status?.currentStatus?.phase).toBe("Running"), {
      timeoutMs: 30_000,
    });
    // Admission rejects both today; stored as a template written before it did.
    const running = await get();
    await storeUnchecked(MachineResources.machines, {
      ...running,
      metadata: { ...running.metadata, resourceVersion: undefined },
      spec: {
        ...running.spec,
        nodeTemplate: {
          metadata: { labels: { "bad key!": "x" } },
          spec: { taints: [{ key: "k", effect: "Bogus" }] },
        },
      },
    });
    const refused = MachineEventReasons.nodeTemplateRefused;
    await eventually(async () => {
      const c = (await get()).status?.machineConditions?.find((x) => x.type === "NodeTemplateApplied");
      expect(c).toMatchObject({ status: "False", reason: refused });
      expect(c?.message).toContain(`Node ${name} refused spec.nodeTemplate`);
    });
    await rig.sim.makeNotReady(name);
    await eventually(async () => expect((await get()).status?.currentStatus?.phase).toBe("Unknown"), {
      timeoutMs: 30_000,
    });
    expect(await eventsAbout(name, refused)).toHaveLength(1);
  }, 90_000);
});

describe("MachineClass and Secret finalizers", () => {
  type Meta = { metadata?: { finalizers?: string[]; deletionTimestamp?: string } };
  const secret = () => rig.client.get<Meta>(Resources.secrets, ns, "fin");
  const machineClass = () => rig.client.get<Meta>(MachineResources.machineClasses, ns, "fin");

  it("a class in use and its Secret are deleted only once no machine uses them; the VM goes first", async () => {
    await rig.client.create(Resources.secrets, {
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: "fin", namespace: ns },
      stringData: { userData: "#cloud-config\n" },
    });
    await createVirtualClass(rig.client, ns, "fin", { secretRef: "fin" });
    const name = uniqueName("fin");
    await rig.client.create(MachineResources.machines, {
      apiVersion: "machine.sapcloud.io/v1alpha1",
      kind: "Machine",
      metadata: { name, namespace: ns },
      spec: { class: { kind: "MachineClass", name: "fin" } },
    });
    await eventually(async () => {
      expect((await machineClass()).metadata?.finalizers).toContain(Finalizers.machineControllerManager);
      expect((await secret()).metadata?.finalizers).toContain(Finalizers.machineController);
      expect(await rig.cloud.findVms({ name })).toHaveLength(1);
    });
    await rig.client.delete(MachineResources.machineClasses, ns, "fin");
    await rig.client.delete(Resources.secrets, ns, "fin");
    await eventually(async () => expect(await eventsAbout("fin", "ClassInUse")).toHaveLength(1));
    expect((await machineClass()).metadata?.deletionTimestamp).toBeDefined();
    expect((await secret()).metadata?.deletionTimestamp).toBeDefined();
    await rig.client.delete(MachineResources.machines, ns, name);
    await eventually(
      async () => {
        expect(await failureStatus(machineClass())).toBe(404);
        expect(await failureStatus(secret())).toBe(404);
      },
      { timeoutMs: 30_000 },
    );
    expect(await rig.cloud.findVms({ name })).toEqual([]);
  }, 60_000);

  it("a machine whose class is gone waits with a clear status, and force-deletion finishes it", async () => {
    const name = uniqueName("classless");
    await rig.client.create(MachineResources.machines, {
      apiVersion: "machine.sapcloud.io/v1alpha1",
      kind: "Machine",
      metadata: { name, namespace: ns },
      spec: { class: { kind: "MachineClass", name: "no-such-class" } },
    });
    const get = () => rig.client.get<Machine>(MachineResources.machines, ns, name);
    await eventually(async () =>
      expect((await get()).metadata?.finalizers).toContain(Finalizers.machineControllerManager),
    );
    await rig.client.delete(MachineResources.machines, ns, name);
    await eventually(async () => {
      const m = await get();
      expect(m.status?.lastOperation).toMatchObject({ type: "Delete", state: "Failed" });
      expect(m.status?.lastOperation?.description).toContain(`${Labels.forceDeletion}=true`);
    });
    await rig.client.patch(MachineResources.machines, ns, name, {
      metadata: { labels: { [Labels.forceDeletion]: "true" } },
    });
    await eventually(async () => expect(await failureStatus(get())).toBe(404), { timeoutMs: 30_000 });
    expect(await eventsAbout(name, "VMNotDeleted")).toHaveLength(1);
  }, 60_000);
});
