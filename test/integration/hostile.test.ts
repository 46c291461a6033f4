import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CloudClient } from "../../src/sim/cloud/client.ts";
import { NodeSimulator } from "../../src/sim/node/nodesim.ts";
import {
  API_VERSION,
  ClassEventReasons,
  DeploymentConditions,
  Finalizers,
  GROUP,
  MachineEventReasons,
  MachineSetConditions,
  VERSION,
} from "../../src/api/constants.ts";
import { installCrds } from "../../src/cli/install-crds.ts";
import { MachineResources } from "../../src/api/resources.ts";
import type { Machine } from "../../src/api/v1alpha1/machine.ts";
import type { MachineDeployment } from "../../src/api/v1alpha1/machinedeployment.ts";
import type { MachineSet } from "../../src/api/v1alpha1/machineset.ts";
import { repoRoot } from "../../src/localplane/cache.ts";
import { freePort } from "../../src/localplane/ports.ts";
import { LocalPlane } from "../../src/localplane/localplane.ts";
import { nodeApi } from "../../src/sim/node/node-api.ts";
import { startVirtualCloud } from "../../src/sim/cloud/process.ts";
import { KubeClient } from "../../src/runtime/client/client.ts";
import { KubeApiError, rawRequest } from "../../src/runtime/client/raw.ts";
import { Resources } from "../../src/runtime/client/resources.ts";
import { MALFORMED_OBJECT_REASON } from "../../src/runtime/events/recorder.ts";
import { createDeployment, isLive, machinesOf, runningLive, sample } from "../env/deployments.ts";
import { eventually, uniqueName } from "../env/index.ts";
import { storeLoosely } from "../env/loose-crds.ts";
import { createWorkerClass } from "../env/machines.ts";
import { deployment, machine, machineSet, MALFORMED, type Obj, template } from "../env/malformed.ts";
import { workerUserData } from "../env/worker-pool.ts";

/**
 * The hostile-input suite: malformed objects applied to a running sprout (every controller, as
 * `sprout start` runs them against a given seed) next to a healthy MachineDeployment. Each must be
 * refused at admission with a message naming the field, or, when stored before the CRD tightened,
 * be reported in status and by exactly one Event. Throughout, /healthz answers 200, the namespace
 * never holds more machines than the deployments' replicas + maxSurge, and none of the healthy
 * deployment's machines is deleted. The suite has a control plane of its own: storing objects
 * past admission means loosening a CRD for a moment, which other files must not see.
 */

const HEALTHY = "healthy";
const REPLICAS = 2;
const MAX_SURGE = 1;

const PLURALS: Record<string, string> = {
  Machine: "machines",
  MachineSet: "machinesets",
  MachineDeployment: "machinedeployments",
  MachineClass: "machineclasses",
};

const cleanups: (() => Promise<unknown>)[] = [];
let plane: LocalPlane;
let ns: string;
let client: KubeClient;
let healthz: string;
let before: string[];
/** How many machines the namespace may hold: replicas + maxSurge of every deployment in it. */
let budget = REPLICAS + MAX_SURGE;
let watcher: { stop(): Promise<{ health: number; machines: number }[]> };

const healthStatus = async (): Promise<number> => {
  try {
    return (await fetch(healthz, { signal: AbortSignal.timeout(5000) })).status;
  } catch {
    return 0;
  }
};

beforeAll(async () => {
  plane = await LocalPlane.start();
  cleanups.push(() => plane.stop());
  const kc = await plane.kubeConfig();
  await installCrds(kc);
  client = new KubeClient(kc, { qps: 100, burst: 100 });
  ns = uniqueName("hostile");
  await client.create(Resources.namespaces, { apiVersion: "v1", kind: "Namespace", metadata: { name: ns } });
  const dir = await mkdtemp(join(tmpdir(), "sprout-hostile-"));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  const cloud = await startVirtualCloud(dir);
  cleanups.push(() => cloud.stop());
  const sim = new NodeSimulator({
    cloud: new CloudClient(cloud.endpoint),
    nodes: nodeApi(client),
    bootDelayMs: 200,
    onError: () => undefined,
  });
  sim.start();
  cleanups.push(() => sim.stop());
  const cluster = kc.getCurrentCluster();
  const caPem = Buffer.from(cluster?.caData ?? "", "base64").toString();
  const userData = await workerUserData("cloud-config", { cluster: { server: cluster?.server, caPem } });
  await createWorkerClass(client, ns, { userData });
  await createDeployment(client, ns, HEALTHY, {
    replicas: REPLICAS,
    className: "small",
    strategy: { type: "RollingUpdate", rollingUpdate: { maxSurge: MAX_SURGE, maxUnavailable: 0 } },
  });

  const port = await freePort();
  healthz = `http://127.0.0.1:${port}/healthz`;
  const child: ChildProcess = spawn(
    process.execPath,
    [
      "src/cli/main.ts",
      "start",
      `--control-kubeconfig=${plane.kubeconfigPath}`,
      `--namespace=${ns}`,
      "--address=127.0.0.1",
      `--port=${port}`,
      "--leader-elect=false",
      "--view=false",
    ],
    {
      cwd: repoRoot,
      env: { ...process.env, SPROUT_VIRTUAL_CLOUD_ENDPOINT: cloud.endpoint },
      stdio: ["ignore", "ignore", "ignore"],
    },
  );
  const exited = new Promise((resolve) => child.once("exit", resolve));
  cleanups.push(async () => {
    if (child.exitCode === null) child.kill("SIGTERM");
    await exited;
  });
  await eventually(async () => expect(await healthStatus()).toBe(200), { timeoutMs: 60_000 });
  await eventually(
    async () => expect(runningLive(await machinesOf(client, ns, HEALTHY))).toHaveLength(REPLICAS),
    { timeoutMs: 90_000 },
  );
  before = (await machinesOf(client, ns, HEALTHY)).map((m) => m.metadata?.name ?? "").sort();
  watcher = sample(async () => ({
    health: await healthStatus(),
    // A list can fail for a moment while a CRD change reinitialises the apiserver's storage.
    machines: await client.list<Machine>(MachineResources.machines, ns).then(
      (list) => list.items.filter(isLive).length,
      () => 0,
    ),
  }));
}, 180_000);

afterAll(async () => {
  await watcher.stop().catch(() => undefined);
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
});

async function rejection(obj: Obj): Promise<string> {
  try {
    await rawRequest(client.kubeConfig, {
      method: "POST",
      path: `/apis/${GROUP}/${VERSION}/namespaces/${ns}/${PLURALS[obj.kind] ?? ""}`,
      body: { apiVersion: API_VERSION, ...obj, metadata: { name: uniqueName(obj.kind.toLowerCase()) } },
    });
  } catch (err) {
    if (err instanceof KubeApiError && err.code === 422) return err.message;
    throw err;
  }
  throw new Error(`${obj.kind} was accepted`);
}

type EventLike = { type?: string; reason?: string };
const eventsOf = async (name: string): Promise<EventLike[]> =>
  (await client.list<EventLike>(Resources.events, ns, { fieldSelector: `regarding.name=${name}` })).items;

/** Exactly one Event about the object: a Warning with that reason (repeats only count in its series). */
const oneWarning = (name: string, reason: string) => {
  warned.push([name, reason]);
  return eventually(async () =>
    expect((await eventsOf(name)).map((e) => `${e.type}/${e.reason}`)).toEqual([`Warning/${reason}`]),
  );
};
/** Machines whose node template the Node refused; at the end each still has one such Event. */
const refused: string[] = [];
/** Machines with timeouts the controller ignores; at the end each still has one such Event. */
const invalidTimeouts: string[] = [];
/** Objects that got their one Warning; at the end each still has exactly that one. */
const warned: [string, string][] = [];

describe("hostile input to a running sprout", () => {
  it("has at least 40 malformed objects", () => {
    expect(MALFORMED.length).toBeGreaterThanOrEqual(40);
  });

  it.each(MALFORMED.map(([what, obj, fragments]) => [what, obj, fragments] as const))(
    "refuses %s at admission, naming the field",
    async (_, obj, fragments) => {
      const message = await rejection(obj);
      for (const fragment of fragments) expect(message).toContain(fragment);
    },
  );

  describe("objects stored before the CRD tightened", () => {
    it("a MachineDeployment with strategy InPlaceUpdate: ReplicaFailure and one Warning Event", async () => {
      const name = uniqueName("inplace");
      const obj = deployment({ replicas: 1, strategy: { type: "InPlaceUpdate" } });
      budget += 1;
      await storeLoosely(client.kubeConfig, "MachineDeployment", () =>
        client.create(MachineResources.machineDeployments, {
          apiVersion: API_VERSION,
          ...obj,
          metadata: { name, namespace: ns },
        }),
      );
      const reason = DeploymentConditions.reasons.strategyNotSupported;
      await eventually(async () => {
        const d = await client.get<MachineDeployment>(MachineResources.machineDeployments, ns, name);
        expect(d.status?.conditions).toContainEqual(
          expect.objectContaining({ type: "ReplicaFailure", status: "True", reason }),
        );
      });
      await oneWarning(name, reason);
    });

    it.each<[string, "MachineSet" | "MachineDeployment", Record<string, unknown> | undefined]>([
      ["a MachineSet without selector", "MachineSet", undefined],
      ["a MachineSet with an empty selector", "MachineSet", {}],
      [
        "a MachineSet with an unknown operator",
        "MachineSet",
        { matchExpressions: [{ key: "case", operator: "Like" }] },
      ],
      [
        "a MachineSet whose matchExpressions do not select its template",
        "MachineSet",
        { matchExpressions: [{ key: "case", operator: "DoesNotExist" }] },
      ],
      ["a MachineDeployment without selector", "MachineDeployment", undefined],
      [
        "a MachineDeployment whose selector does not select its template",
        "MachineDeployment",
        { matchLabels: { case: "other" } },
      ],
    ])("%s: ReplicaFailure/InvalidSelector, one Warning Event, no machine", async (_, kind, selector) => {
      const name = uniqueName(kind.toLowerCase());
      const base = kind === "MachineSet" ? machineSet({ replicas: 2 }) : deployment({ replicas: 2 });
      const spec: Record<string, unknown> = {
        ...(base.spec as Record<string, unknown>),
        template: template({}, { case: name }),
      };
      if (selector) spec.selector = selector;
      else delete spec.selector;
      const ref = kind === "MachineSet" ? MachineResources.machineSets : MachineResources.machineDeployments;
      await storeLoosely(client.kubeConfig, kind, () =>
        client.create(ref, { apiVersion: API_VERSION, kind, metadata: { name, namespace: ns }, spec }),
      );
      const reason = MachineSetConditions.reasons.invalidSelector;
      await eventually(async () => {
        const o = await client.get<MachineSet & MachineDeployment>(ref, ns, name);
        const conditions = kind === "MachineSet" ? o.status?.machineSetCondition : o.status?.conditions;
        expect(conditions).toContainEqual(
          expect.objectContaining({ type: "ReplicaFailure", status: "True", reason }),
        );
      });
      await oneWarning(name, reason);
      const made = await client.list<Machine>(MachineResources.machines, ns, {
        labelSelector: `case=${name}`,
      });
      expect(made.items).toEqual([]);
    });

    it("a MachineSet whose template the Machine CRD refuses: ReplicaFailure/FailedCreate, one Event", async () => {
      const name = uniqueName("badset");
      const spec = {
        ...(machineSet({ replicas: 2 }).spec as Record<string, unknown>),
        selector: { matchLabels: { case: name } },
        template: template({ nodeTemplate: { metadata: { labels: { "bad key!": "x" } } } }, { case: name }),
      };
      await storeLoosely(client.kubeConfig, "MachineSet", () =>
        client.create(MachineResources.machineSets, {
          apiVersion: API_VERSION,
          kind: "MachineSet",
          metadata: { name, namespace: ns },
          spec,
        }),
      );
      const reason = MachineSetConditions.reasons.failedCreate;
      await eventually(async () => {
        const o = await client.get<MachineSet>(MachineResources.machineSets, ns, name);
        expect(o.status?.machineSetCondition).toContainEqual(
          expect.objectContaining({ type: "ReplicaFailure", status: "True", reason }),
        );
      });
      await oneWarning(name, reason);
      const made = await client.list<Machine>(MachineResources.machines, ns, {
        labelSelector: `case=${name}`,
      });
      expect(made.items).toEqual([]);
    });

    it("a Machine without spec.class: reported once, in status, and the cache keeps following", async () => {
      const name = uniqueName("noclass");
      budget += 1;
      await storeLoosely(client.kubeConfig, "Machine", () =>
        client.create(MachineResources.machines, {
          apiVersion: API_VERSION,
          kind: "Machine",
          metadata: { name, namespace: ns },
          spec: {},
        }),
      );
      await eventually(async () => {
        const m = await client.get<Machine>(MachineResources.machines, ns, name);
        expect(m.status?.lastOperation).toMatchObject({ state: "Failed" });
        expect(m.status?.lastOperation?.description).toContain("spec.class.name");
        const reasons = (await eventsOf(name)).map((e) => e.reason);
        expect(reasons.filter((r) => r === MALFORMED_OBJECT_REASON)).toHaveLength(1);
        expect(new Set(reasons).size).toBe(reasons.length);
      });
      // Written after it: the machine cache still delivers, and the machine runs.
      const fine = uniqueName("fine");
      budget += 1;
      await client.create(MachineResources.machines, {
        apiVersion: API_VERSION,
        ...machine({}),
        metadata: { name: fine, namespace: ns },
      });
      await eventually(
        async () =>
          expect(
            (await client.get<Machine>(MachineResources.machines, ns, fine)).status?.currentStatus?.phase,
          ).toBe("Running"),
        { timeoutMs: 60_000 },
      );
    });
    it.each<[string, Record<string, unknown>]>([
      ["a label key `bad key!`", { metadata: { labels: { "bad key!": "x" } } }],
      ["a taint effect Bogus", { spec: { taints: [{ key: "dedicated", effect: "Bogus" }] } }],
    ])(
      "a Machine whose nodeTemplate has %s: condition, one Warning Event, health checks go on",
      async (_, nt) => {
        const name = uniqueName("badtemplate");
        budget += 1;
        await storeLoosely(client.kubeConfig, "Machine", () =>
          client.create(MachineResources.machines, {
            apiVersion: API_VERSION,
            ...machine({ nodeTemplate: nt }),
            metadata: { name, namespace: ns },
          }),
        );
        const reason = MachineEventReasons.nodeTemplateRefused;
        await eventually(
          async () => {
            const m = await client.get<Machine>(MachineResources.machines, ns, name);
            expect(m.status?.currentStatus?.phase).toBe("Running");
            expect(m.status?.machineConditions).toContainEqual(
              expect.objectContaining({ type: "NodeTemplateApplied", status: "False", reason }),
            );
            const refusals = (await eventsOf(name)).filter((e) => e.reason === reason);
            expect(refusals.map((e) => e.type)).toEqual(["Warning"]);
          },
          { timeoutMs: 60_000 },
        );
        refused.push(name);
      },
    );
    it("a Machine with negative creation and health timeouts: the flags apply, one Warning Event", async () => {
      const name = uniqueName("negative");
      budget += 1;
      await storeLoosely(client.kubeConfig, "Machine", () =>
        client.create(MachineResources.machines, {
          apiVersion: API_VERSION,
          ...machine({ creationTimeout: "-5m", healthTimeout: "-1s" }),
          metadata: { name, namespace: ns },
        }),
      );
      // A negative creation timeout would mint an expired bootstrap token: the machine would never join.
      await eventually(
        async () => {
          const m = await client.get<Machine>(MachineResources.machines, ns, name);
          expect(m.status?.currentStatus?.phase).toBe("Running");
          const warnings = (await eventsOf(name)).filter(
            (e) => e.reason === MachineEventReasons.invalidTimeout,
          );
          expect(warnings.map((e) => e.type)).toEqual(["Warning"]);
        },
        { timeoutMs: 60_000 },
      );
      invalidTimeouts.push(name);
    });
  });

  it("a MachineClass and its Secret deleted while machines use them: both stay, one ClassInUse Event", async () => {
    type Held = { metadata?: { deletionTimestamp?: string; finalizers?: string[] } };
    await client.delete(MachineResources.machineClasses, ns, "small");
    await client.delete(Resources.secrets, ns, "worker");
    await oneWarning("small", ClassEventReasons.classInUse);
    const cls = await client.get<Held>(MachineResources.machineClasses, ns, "small");
    expect(cls.metadata?.deletionTimestamp).toBeTruthy();
    expect(cls.metadata?.finalizers).toContain(Finalizers.machineControllerManager);
    const secret = await client.get<Held>(Resources.secrets, ns, "worker");
    expect(secret.metadata?.deletionTimestamp).toBeTruthy();
    expect(secret.metadata?.finalizers).toContain(Finalizers.machineController);
  });

  it("stayed healthy, ran nothing away and deleted nothing", async () => {
    const samples = await watcher.stop();
    expect(samples.length).toBeGreaterThan(0);
    expect(samples.filter((s) => s.health !== 200)).toEqual([]);
    expect(Math.max(...samples.map((s) => s.machines))).toBeLessThanOrEqual(budget);
    const after = await machinesOf(client, ns, HEALTHY);
    expect(
      after
        .filter(isLive)
        .map((m) => m.metadata?.name ?? "")
        .sort(),
    ).toEqual(before);
    expect(runningLive(after)).toHaveLength(REPLICAS);
    for (const name of invalidTimeouts) {
      const reasons = (await eventsOf(name)).map((e) => e.reason);
      expect(reasons.filter((r) => r === MachineEventReasons.invalidTimeout)).toHaveLength(1);
      const m = await client.get<Machine>(MachineResources.machines, ns, name);
      expect(m.status?.currentStatus?.phase).toBe("Running");
    }
    for (const name of refused) {
      const reasons = (await eventsOf(name)).map((e) => e.reason);
      expect(reasons.filter((r) => r === MachineEventReasons.nodeTemplateRefused)).toHaveLength(1);
    }
    for (const [name, reason] of warned) {
      expect((await eventsOf(name)).map((e) => `${e.type}/${e.reason}`)).toEqual([`Warning/${reason}`]);
    }
  });
});
