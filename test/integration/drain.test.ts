import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MachineResources } from "../../src/api/resources.ts";
import type { Machine } from "../../src/api/v1alpha1/machine.ts";
import type { KubeObject } from "../../src/runtime/client/client.ts";
import { Resources, type ResourceRef } from "../../src/runtime/client/resources.ts";
import { eventually, failureStatus, testNamespace, uniqueName } from "../env/index.ts";
import { createWorkerClass, type MachineRig, reconciledAgain, startMachineRig } from "../env/machines.ts";

let ns: string;
let rig: MachineRig;
const daemonSets: ResourceRef = {
  group: "apps",
  version: "v1",
  plural: "daemonsets",
  kind: "DaemonSet",
  namespaced: true,
};

beforeAll(async () => {
  ns = await testNamespace("drain");
  rig = await startMachineRig(ns);
  await createWorkerClass(rig.client, ns);
}, 60_000);

afterAll(async () => {
  await rig.stop();
});

async function runningMachine(spec: Record<string, unknown> = {}): Promise<string> {
  const name = uniqueName("drain");
  await rig.client.create(MachineResources.machines, {
    apiVersion: "machine.sapcloud.io/v1alpha1",
    kind: "Machine",
    metadata: { name, namespace: ns },
    spec: { class: { kind: "MachineClass", name: "small" }, ...spec },
  });
  await eventually(
    async () =>
      expect(
        (await rig.client.get<Machine>(MachineResources.machines, ns, name)).status?.currentStatus?.phase,
      ).toBe("Running"),
    { timeoutMs: 30_000 },
  );
  return name;
}

async function pod(node: string, labels: Record<string, string>, owner?: KubeObject): Promise<string> {
  const name = uniqueName("pod");
  await rig.client.create(Resources.pods, {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name,
      namespace: ns,
      labels,
      ...(owner
        ? {
            ownerReferences: [
              {
                apiVersion: "apps/v1",
                kind: "DaemonSet",
                name: owner.metadata?.name ?? "",
                uid: owner.metadata?.uid ?? "",
                controller: true,
              },
            ],
          }
        : {}),
    },
    spec: { nodeName: node, containers: [{ name: "c", image: "registry.invalid/app:1" }] },
  });
  return name;
}

const gone = async (ref: ResourceRef, namespace: string | undefined, name: string): Promise<void> => {
  await eventually(async () => expect(await failureStatus(rig.client.get(ref, namespace, name))).toBe(404), {
    timeoutMs: 60_000,
  });
};

describe("drain during machine deletion", () => {
  it("cordons, evicts ordinary pods, leaves DaemonSet pods, and then deletes VM and Node", async () => {
    const node = await runningMachine();
    const ds = await rig.client.create(daemonSets, {
      apiVersion: "apps/v1",
      kind: "DaemonSet",
      metadata: { name: uniqueName("ds"), namespace: ns },
      spec: {
        selector: { matchLabels: { app: "agent" } },
        template: {
          metadata: { labels: { app: "agent" } },
          spec: { containers: [{ name: "a", image: "registry.invalid/agent:1" }] },
        },
      },
    });
    const app = await pod(node, { app: "web" });
    const agent = await pod(node, { app: "agent" }, ds);
    await rig.client.delete(MachineResources.machines, ns, node);
    await gone(Resources.pods, ns, app);
    await gone(MachineResources.machines, ns, node);
    await gone(Resources.nodes, undefined, node);
    expect(await rig.cloud.findVms({ name: node })).toEqual([]);
    const left = await rig.client.find(Resources.pods, ns, agent);
    expect(left?.metadata?.deletionTimestamp).toBeUndefined();
  });

  it("waits on a PodDisruptionBudget, then forces the drain after the drain timeout", async () => {
    const node = await runningMachine({ drainTimeout: "6s" });
    await rig.client.create(Resources.podDisruptionBudgets, {
      apiVersion: "policy/v1",
      kind: "PodDisruptionBudget",
      metadata: { name: uniqueName("pdb"), namespace: ns },
      spec: { minAvailable: 1, selector: { matchLabels: { app: "guarded" } } },
    });
    const guarded = await pod(node, { app: "guarded" });
    // The budget protects the pod once it runs and the disruption controller has counted it.
    await eventually(async () => {
      const pdbs = await rig.client.list<
        KubeObject & { status?: { currentHealthy?: number; disruptionsAllowed?: number } }
      >(Resources.podDisruptionBudgets, ns);
      expect(pdbs.items[0]?.status).toMatchObject({ currentHealthy: 1, disruptionsAllowed: 0 });
    });
    await rig.client.delete(MachineResources.machines, ns, node);
    await eventually(async () => {
      const m = await rig.client.get<Machine>(MachineResources.machines, ns, node);
      expect(m.status?.deletionStep).toBe("Drain");
      expect(m.status?.lastOperation?.description).toContain("blocked by a PodDisruptionBudget");
      const drained = m.status?.machineConditions?.find((c) => c.type === "Drained");
      expect(drained).toMatchObject({ status: "False", reason: "Draining" });
      expect(drained?.message).toContain("blocked by a PodDisruptionBudget");
    });
    expect(await rig.client.find(Resources.pods, ns, guarded)).toBeDefined();
    await gone(MachineResources.machines, ns, node);
    await gone(Resources.pods, ns, guarded);
    expect(await rig.cloud.findVms({ name: node })).toEqual([]);
  });

  it("moves pods with volumes one at a time, each after the previous one's volume detached", async () => {
    const node = await runningMachine();
    const volumeAttachments: ResourceRef = {
      group: "storage.k8s.io",
      version: "v1",
      plural: "volumeattachments",
      kind: "VolumeAttachment",
      namespaced: false,
    };
    const pods: { pod: string; va: string }[] = [];
    for (let i = 0; i < 2; i++) {
      const pv = uniqueName("pv");
      await rig.client.create(Resources.persistentVolumes, {
        apiVersion: "v1",
        kind: "PersistentVolume",
        metadata: { name: pv },
        spec: {
          capacity: { storage: "1Gi" },
          accessModes: ["ReadWriteOnce"],
          csi: { driver: "disk.csi.virtual.sprout", volumeHandle: `vol-${pv}` },
        },
      });
      const pvc = uniqueName("pvc");
      await rig.client.create(Resources.persistentVolumeClaims, {
        apiVersion: "v1",
        kind: "PersistentVolumeClaim",
        metadata: { name: pvc, namespace: ns },
        spec: {
          accessModes: ["ReadWriteOnce"],
          resources: { requests: { storage: "1Gi" } },
          volumeName: pv,
          storageClassName: "",
        },
      });
      const va = uniqueName("va");
      await rig.client.create(volumeAttachments, {
        apiVersion: "storage.k8s.io/v1",
        kind: "VolumeAttachment",
        metadata: { name: va },
        spec: { attacher: "disk.csi.virtual.sprout", nodeName: node, source: { persistentVolumeName: pv } },
      });
      const name = uniqueName("db");
      await rig.client.create(Resources.pods, {
        apiVersion: "v1",
        kind: "Pod",
        metadata: { name, namespace: ns },
        spec: {
          nodeName: node,
          containers: [{ name: "c", image: "registry.invalid/db:1" }],
          volumes: [{ name: "data", persistentVolumeClaim: { claimName: pvc } }],
        },
      });
      pods.push({ pod: name, va });
    }
    await rig.client.delete(MachineResources.machines, ns, node);
    const exists = async (name: string): Promise<boolean> =>
      (await rig.client.find(Resources.pods, ns, name)) !== undefined;
    const first = await eventually(
      async () => {
        const left: { pod: string; va: string }[] = [];
        for (const p of pods) if (await exists(p.pod)) left.push(p);
        expect(left).toHaveLength(1);
        return pods.find((p) => !left.includes(p));
      },
      { timeoutMs: 30_000 },
    );
    const second = pods.find((p) => p !== first);
    // The second pod stays while the first pod's volume is still attached to the node, however
    // often the drain looks again (this machine is the only one being deleted).
    await reconciledAgain(rig, "machine-termination");
    const waiting = await rig.client.find(Resources.pods, ns, second?.pod ?? "");
    expect(waiting?.metadata?.deletionTimestamp).toBeUndefined();
    const m = await rig.client.get<Machine>(MachineResources.machines, ns, node);
    expect(m.status?.lastOperation?.description).toContain("to detach");

    await rig.client.delete(volumeAttachments, undefined, first?.va ?? "");
    await gone(Resources.pods, ns, second?.pod ?? "");
    await rig.client.delete(volumeAttachments, undefined, second?.va ?? "");
    await gone(MachineResources.machines, ns, node);
    expect(await rig.cloud.findVms({ name: node })).toEqual([]);
  });
});
