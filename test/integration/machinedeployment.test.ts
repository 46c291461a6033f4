import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Annotations, Taints } from "../../src/api/constants.ts";
import { MachineResources } from "../../src/api/resources.ts";
import type { Machine } from "../../src/api/v1alpha1/machine.ts";
import type { MachineDeployment } from "../../src/api/v1alpha1/machinedeployment.ts";
import { Resources } from "../../src/runtime/client/resources.ts";
import {
  createDeployment,
  isLive,
  machinesOf,
  patchDeployment,
  phaseOf,
  runningLive,
  sample,
  setsOf,
} from "../env/deployments.ts";
import { eventually, testNamespace } from "../env/index.ts";
import { createVirtualClass, createWorkerClass, type MachineRig, startMachineRig } from "../env/machines.ts";

let ns: string;
let rig: MachineRig;

beforeAll(async () => {
  ns = await testNamespace("deployments");
  rig = await startMachineRig(ns);
  await createWorkerClass(rig.client, ns);
  await createVirtualClass(rig.client, ns, "large", { secretRef: "worker" }, { machineType: "large" });
}, 60_000);

afterAll(async () => {
  await rig.stop();
});

type NodeLike = {
  metadata?: { name?: string; annotations?: Record<string, string> };
  spec?: { taints?: { key: string }[] };
};
const getDeployment = (name: string): Promise<MachineDeployment> =>
  rig.client.get(MachineResources.machineDeployments, ns, name);
const classOf = (m: { spec: { class: { name: string } } }): string => m.spec.class.name;
const waitRunning = (name: string, count: number, className?: string, timeoutMs = 60_000) =>
  eventually(
    async () => {
      const live = (await machinesOf(rig.client, ns, name)).filter(isLive);
      expect(live).toHaveLength(count);
      expect(runningLive(live)).toHaveLength(count);
      if (className) expect(live.every((m) => classOf(m) === className)).toBe(true);
    },
    { timeoutMs },
  );
const waitAvailable = (name: string, count: number) =>
  eventually(
    async () =>
      expect((await getDeployment(name)).status).toMatchObject({
        replicas: count,
        updatedReplicas: count,
        availableReplicas: count,
      }),
    { timeoutMs: 60_000 },
  );

describe("MachineDeployment controller", () => {
  it("rolls 10 machines to a new class with maxSurge 2 / maxUnavailable 0 without dropping below 10 available", async () => {
    await createDeployment(rig.client, ns, "rolling", {
      replicas: 10,
      className: "small",
      strategy: { type: "RollingUpdate", rollingUpdate: { maxSurge: 2, maxUnavailable: 0 } },
    });
    await waitRunning("rolling", 10, "small");
    await waitAvailable("rolling", 10);
    const sampler = sample(async () => {
      const live = (await machinesOf(rig.client, ns, "rolling")).filter(isLive);
      const nodes = await rig.client.list<NodeLike>(Resources.nodes);
      const ours = nodes.items.filter((n) => live.some((m) => m.metadata?.labels?.node === n.metadata?.name));
      return {
        running: runningLive(live).length,
        total: live.length,
        scaleDownDisabled: ours.filter((n) => n.metadata?.annotations?.[Annotations.scaleDownDisabledByMCM])
          .length,
        preferNoSchedule: ours.filter((n) => n.spec?.taints?.some((t) => t.key === Taints.preferNoSchedule))
          .length,
      };
    });
    await patchDeployment(rig.client, ns, "rolling", {
      spec: { template: { spec: { class: { kind: "MachineClass", name: "large" } } } },
    });
    await waitRunning("rolling", 10, "large", 120_000);
    await waitAvailable("rolling", 10);
    const seen = await sampler.stop();
    expect(Math.min(...seen.map((s) => s.running))).toBeGreaterThanOrEqual(10);
    expect(Math.max(...seen.map((s) => s.total))).toBeLessThanOrEqual(12);
    // During the rollout the Nodes were marked for the autoscaler and old Nodes tainted; not after.
    expect(Math.max(...seen.map((s) => s.scaleDownDisabled))).toBeGreaterThan(0);
    expect(Math.max(...seen.map((s) => s.preferNoSchedule))).toBeGreaterThan(0);
    await eventually(async () => {
      const nodes = await rig.client.list<NodeLike>(Resources.nodes);
      const names = new Set(
        runningLive(await machinesOf(rig.client, ns, "rolling")).map((m) => m.metadata?.labels?.node),
      );
      const ours = nodes.items.filter((n) => names.has(n.metadata?.name));
      expect(ours).toHaveLength(10);
      expect(ours.filter((n) => n.metadata?.annotations?.[Annotations.scaleDownDisabledByMCM])).toHaveLength(
        0,
      );
    });
    const sets = await setsOf(rig.client, ns, "rolling");
    expect(sets).toHaveLength(2);
    const byRevision: Record<string, number | undefined> = Object.fromEntries(
      sets.map((s) => [s.metadata?.annotations?.[Annotations.revision] ?? "", s.spec?.replicas]),
    );
    expect(byRevision).toEqual({ "1": 0, "2": 10 });
    const d = await getDeployment("rolling");
    expect(d.metadata?.annotations?.[Annotations.revision] ?? "2").toBe("2");
    expect(d.status?.conditions?.find((c) => c.type === "Available")).toMatchObject({
      status: "True",
      reason: "MinimumReplicasAvailable",
    });
  }, 240_000);

  it("Recreate removes every old machine before the first new one is created", async () => {
    await createDeployment(rig.client, ns, "recreate", {
      replicas: 3,
      className: "small",
      strategy: { type: "Recreate" },
    });
    await waitRunning("recreate", 3, "small");
    // The apiserver's own order of Machine events: no sampling window can miss a moment.
    const listed = await rig.client.list<Machine>(MachineResources.machines, ns, {
      labelSelector: "name=recreate",
    });
    const order: string[] = [];
    const stop = new AbortController();
    const watching = rig.client
      .watch<Machine>(
        MachineResources.machines,
        ns,
        { labelSelector: "name=recreate", resourceVersion: listed.metadata?.resourceVersion ?? "" },
        (e) => {
          if (e.type === "ADDED" || e.type === "DELETED") order.push(`${e.type} ${classOf(e.object)}`);
        },
        { signal: stop.signal },
      )
      .catch(() => undefined);
    await patchDeployment(rig.client, ns, "recreate", {
      spec: { template: { spec: { class: { kind: "MachineClass", name: "large" } } } },
    });
    await waitRunning("recreate", 3, "large", 90_000);
    stop.abort();
    await watching;
    const lastOldGone = order.lastIndexOf("DELETED small");
    expect(order.filter((e) => e === "DELETED small")).toHaveLength(3);
    expect(order.indexOf("ADDED large")).toBeGreaterThan(lastOldGone);
  }, 180_000);

  it("pause halts a rollout, resume completes it, and rollbackTo restores the previous template", async () => {
    await createDeployment(rig.client, ns, "paused", {
      replicas: 2,
      className: "small",
      strategy: { type: "RollingUpdate", rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
    });
    await waitRunning("paused", 2, "small");
    await patchDeployment(rig.client, ns, "paused", { spec: { paused: true } });
    await eventually(async () =>
      expect(
        (await getDeployment("paused")).status?.conditions?.find((c) => c.type === "Progressing"),
      ).toMatchObject({
        status: "Unknown",
        reason: "DeploymentPaused",
      }),
    );
    const changed = await rig.client.patch<MachineDeployment>(
      MachineResources.machineDeployments,
      ns,
      "paused",
      {
        spec: { template: { spec: { class: { kind: "MachineClass", name: "large" } } } },
      },
    );
    // The controller has seen the new template (observedGeneration) and, paused, rolled nothing.
    const generation = changed.metadata?.generation ?? 0;
    expect(generation).toBeGreaterThan(1);
    await eventually(async () =>
      expect((await getDeployment("paused")).status?.observedGeneration).toBeGreaterThanOrEqual(generation),
    );
    expect((await machinesOf(rig.client, ns, "paused")).map(classOf)).toEqual(["small", "small"]);
    expect(await setsOf(rig.client, ns, "paused")).toHaveLength(1);

    await patchDeployment(rig.client, ns, "paused", { spec: { paused: false } });
    await waitRunning("paused", 2, "large", 90_000);
    await waitAvailable("paused", 2);

    await patchDeployment(rig.client, ns, "paused", { spec: { rollbackTo: { revision: 1 } } });
    await eventually(async () => {
      const d = await getDeployment("paused");
      expect(d.spec?.rollbackTo).toBeUndefined();
      expect(d.spec?.template.spec?.class.name).toBe("small");
    });
    await waitRunning("paused", 2, "small", 90_000);
    const revisions = (await setsOf(rig.client, ns, "paused")).map((s) => [
      s.spec?.template?.spec?.class.name,
      s.metadata?.annotations?.[Annotations.revision],
    ]);
    expect(revisions.sort()).toEqual([
      ["large", "2"],
      ["small", "3"],
    ]);
  }, 300_000);

  it("replaces unhealthy machines at most maxReplacements at a time", async () => {
    await createDeployment(rig.client, ns, "healing", {
      replicas: 4,
      className: "small",
      maxReplacements: 2,
      machineSpec: { healthTimeout: "2s" },
    });
    await waitRunning("healing", 4);
    const original = (await machinesOf(rig.client, ns, "healing")).map((m) => m.metadata?.name ?? "");
    const sick = original.slice(0, 3);
    const sampler = sample(async () => {
      const all = await machinesOf(rig.client, ns, "healing");
      return all.filter(
        (m) => sick.includes(m.metadata?.name ?? "") && (!isLive(m) || phaseOf(m) === "Failed"),
      ).length;
    });
    for (const name of sick) await rig.sim.makeNotReady(name);
    await eventually(
      async () => {
        const live = (await machinesOf(rig.client, ns, "healing")).filter(isLive);
        expect(live.filter((m) => sick.includes(m.metadata?.name ?? ""))).toHaveLength(0);
        expect(runningLive(live)).toHaveLength(4);
      },
      { timeoutMs: 120_000 },
    );
    const seen = await sampler.stop();
    // Never more than the limit at once, and the limit held a machine back at least once.
    expect(Math.max(...seen)).toBeLessThanOrEqual(2);
    expect(Math.max(...seen)).toBeGreaterThan(0);
    const events = await rig.client.list<{ reason?: string }>(Resources.events, ns);
    expect(events.items.some((e) => e.reason === "ReplacementLimitReached")).toBe(true);
  }, 180_000);

  it("trigger-deletion-by-mcm removes exactly the named machines", async () => {
    await createDeployment(rig.client, ns, "autoscaled", { replicas: 5, className: "small" });
    await waitRunning("autoscaled", 5);
    const names = (await machinesOf(rig.client, ns, "autoscaled")).map((m) => m.metadata?.name ?? "").sort();
    const victims = [names[1] ?? "", names[3] ?? ""];
    const now = new Date().toISOString().replace(/\.\d+Z$/, "Z");
    await patchDeployment(rig.client, ns, "autoscaled", {
      metadata: {
        annotations: {
          [Annotations.triggerDeletionByMCM]: victims.map((v) => `${v}~${now}`).join(","),
          [Annotations.lastReplicaChangeByScaler]: now,
        },
      },
      spec: { replicas: 3 },
    });
    await eventually(
      async () => expect((await machinesOf(rig.client, ns, "autoscaled")).filter(isLive)).toHaveLength(3),
      {
        timeoutMs: 30_000,
      },
    );
    const left = (await machinesOf(rig.client, ns, "autoscaled"))
      .filter(isLive)
      .map((m) => m.metadata?.name ?? "");
    expect(left.sort()).toEqual(names.filter((n) => !victims.includes(n)));
    await eventually(
      async () =>
        expect(
          (await getDeployment("autoscaled")).metadata?.annotations?.[Annotations.triggerDeletionByMCM],
        ).toBeUndefined(),
      { timeoutMs: 30_000 },
    );
  }, 120_000);

  it("counts a machine available only after minReadySeconds, and syncs node labels without a rollout", async () => {
    await createDeployment(rig.client, ns, "minready", {
      replicas: 1,
      className: "small",
      minReadySeconds: 4,
    });
    const observed = await eventually(
      async () => {
        const d = await getDeployment("minready");
        expect(d.status?.readyReplicas).toBe(1);
        return d.status?.availableReplicas;
      },
      { timeoutMs: 30_000, intervalMs: 100 },
    );
    expect(observed).toBe(0);
    await waitAvailable("minready", 1);
    const [machine] = await machinesOf(rig.client, ns, "minready");
    const nodeName = machine?.metadata?.labels?.node ?? "";
    await patchDeployment(rig.client, ns, "minready", {
      spec: {
        template: {
          spec: {
            nodeTemplate: {
              metadata: { labels: { pool: "blue" }, annotations: { "example.com/owner": "team-a" } },
              spec: { taints: [{ key: "dedicated", value: "x", effect: "NoSchedule" }] },
            },
          },
        },
      },
    });
    const node = () =>
      rig.client.get<{
        metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> };
        spec?: { taints?: { key: string }[] };
      }>(Resources.nodes, undefined, nodeName);
    await eventually(
      async () => {
        const n = await node();
        expect(n.metadata?.labels?.pool).toBe("blue");
        expect(n.metadata?.annotations?.["example.com/owner"]).toBe("team-a");
        expect(n.spec?.taints?.map((t) => t.key)).toContain("dedicated");
      },
      { timeoutMs: 30_000 },
    );
    await patchDeployment(rig.client, ns, "minready", {
      spec: {
        template: {
          spec: { nodeTemplate: { metadata: { labels: { pool: "green" }, annotations: null }, spec: null } },
        },
      },
    });
    await eventually(
      async () => {
        const n = await node();
        expect(n.metadata?.labels?.pool).toBe("green");
        expect(n.metadata?.annotations?.["example.com/owner"]).toBeUndefined();
        expect(n.spec?.taints?.map((t) => t.key) ?? []).not.toContain("dedicated");
      },
      { timeoutMs: 30_000 },
    );
    const after = await machinesOf(rig.client, ns, "minready");
    expect(after.map((m) => m.metadata?.name)).toEqual([machine?.metadata?.name]);
    expect(await setsOf(rig.client, ns, "minready")).toHaveLength(1);
  }, 120_000);

  it("keeps revisionHistoryLimit old MachineSets and deletes older ones", async () => {
    await createDeployment(rig.client, ns, "history", {
      replicas: 1,
      className: "small",
      revisionHistoryLimit: 1,
    });
    await waitAvailable("history", 1);
    for (const rev of ["2", "3"]) {
      await patchDeployment(rig.client, ns, "history", {
        spec: { template: { metadata: { labels: { rev } } } },
      });
      await eventually(
        async () => {
          const live = (await machinesOf(rig.client, ns, "history")).filter(isLive);
          expect(live.map((m) => m.metadata?.labels?.rev)).toEqual([rev]);
          expect(runningLive(live)).toHaveLength(1);
        },
        { timeoutMs: 60_000 },
      );
      await waitAvailable("history", 1);
    }
    // The current set (rev 3) and one old one: the newest old (rev 2); the first set is gone.
    await eventually(
      async () => {
        const sets = (await setsOf(rig.client, ns, "history")).filter((s) => !s.metadata?.deletionTimestamp);
        expect(sets.map((s) => s.spec?.template?.metadata?.labels?.rev ?? "1").sort()).toEqual(["2", "3"]);
      },
      { timeoutMs: 30_000 },
    );
  }, 180_000);

  it("reports ProgressDeadlineExceeded when a rollout makes no progress", async () => {
    await createVirtualClass(rig.client, ns, "broken", { secretRef: "does-not-exist" });
    await createDeployment(rig.client, ns, "stuck", {
      replicas: 1,
      className: "broken",
      progressDeadlineSeconds: 2,
    });
    await eventually(
      async () =>
        expect(
          (await getDeployment("stuck")).status?.conditions?.find((c) => c.type === "Progressing"),
        ).toMatchObject({
          status: "False",
          reason: "ProgressDeadlineExceeded",
        }),
      { timeoutMs: 30_000 },
    );
  }, 60_000);
});
