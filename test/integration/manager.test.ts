import { type ChildProcess, spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { inject } from "vitest";
import { KubeClient, type KubeObject } from "../../src/runtime/client/client.ts";
import { Resources } from "../../src/runtime/client/resources.ts";
import { Manager } from "../../src/runtime/manager/manager.ts";
import { adminKubeConfig, eventually, testCrd, testNamespace, uniqueName } from "../env/index.ts";

interface Child {
  identity: string;
  proc: ChildProcess;
  lines: Record<string, unknown>[];
}

const children: Child[] = [];
let ns: string;
let client: KubeClient;

beforeAll(async () => {
  ns = await testNamespace("leader");
  client = new KubeClient(await adminKubeConfig());
});

afterAll(() => {
  for (const c of children) c.proc.kill("SIGKILL");
});

function startChild(identity: string): Child {
  const proc = spawn(
    process.execPath,
    ["test/fixtures/manager-child.ts", inject("kubeconfig"), ns, identity],
    {
      stdio: ["ignore", "pipe", "inherit"],
    },
  );
  const child: Child = { identity, proc, lines: [] };
  createInterface({ input: proc.stdout as NodeJS.ReadableStream }).on("line", (line) => {
    child.lines.push(JSON.parse(line) as Record<string, unknown>);
  });
  children.push(child);
  return child;
}

type Lease = KubeObject & {
  spec?: { holderIdentity?: string; leaseTransitions?: number; acquireTime?: string; renewTime?: string };
};
const lease = async (): Promise<Lease["spec"]> =>
  (await client.find<Lease>(Resources.leases, ns, "sprout-test"))?.spec;
const holder = async (): Promise<string | undefined> =>
  (await client.find<Lease>(Resources.leases, ns, "sprout-test"))?.spec?.holderIdentity;

const reconciledBy = async (name: string): Promise<string | undefined> => {
  const cm = await client.get(Resources.configMaps, ns, name);
  return (cm.metadata?.annotations as Record<string, string> | undefined)?.["reconciled-by"];
};

const createConfigMap = async (): Promise<string> => {
  const name = uniqueName("cm");
  await client.create(Resources.configMaps, {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { name, namespace: ns },
  });
  return name;
};

describe("leader election between two manager processes", () => {
  it("lets exactly one reconcile, fails over once the lease runs out, and releases on SIGTERM", async () => {
    const a = startChild("manager-a");
    const b = startChild("manager-b");
    const leaderId = await eventually(async () => {
      const h = await holder();
      expect(["manager-a", "manager-b"]).toContain(h);
      return h ?? "";
    });
    const [leader, standby] = leaderId === a.identity ? [a, b] : [b, a];

    const names = [await createConfigMap(), await createConfigMap(), await createConfigMap()];
    for (const name of names)
      await eventually(async () => expect(await reconciledBy(name)).toBe(leader.identity));
    expect(standby.lines.filter((l) => l.reconciled)).toEqual([]);

    leader.proc.kill("SIGKILL");
    const held = await lease();
    await eventually(async () => expect(await holder()).toBe(standby.identity), { timeoutMs: 20_000 });
    // The standby waited for the lease (4 s) to run out after the dead leader's last renewal.
    const taken = await lease();
    expect(taken?.leaseTransitions).toBe((held?.leaseTransitions ?? 0) + 1);
    expect(Date.parse(taken?.acquireTime ?? "")).toBeGreaterThanOrEqual(
      Date.parse(held?.renewTime ?? "") + 4000,
    );
    const after = await createConfigMap();
    await eventually(async () => expect(await reconciledBy(after)).toBe(standby.identity));

    standby.proc.kill("SIGTERM");
    const exit = await new Promise<number | null>((resolve) => standby.proc.once("exit", resolve));
    expect(exit).toBe(0);
    expect(await holder()).toBe("");
  });
});

describe("Manager health endpoints", () => {
  it("is not ready until caches sync, and serves health and metrics", async () => {
    const kc = await adminKubeConfig();
    const group = `${uniqueName("g")}.sprout.test`;
    const manager = new Manager({ kubeConfig: kc, http: { host: "127.0.0.1", port: 0 } });
    manager.informer(
      { group, version: "v1", plural: "gadgets", kind: "Gadget", namespaced: true },
      { namespace: ns },
    );
    manager.informer(Resources.configMaps, { namespace: ns });
    await manager.start();
    const base = `http://127.0.0.1:${manager.httpPort}`;
    try {
      const notReady = await fetch(`${base}/readyz`);
      expect(notReady.status).toBe(503);
      const body = (await notReady.json()) as { ok: boolean; role: string; notSynced: string[] };
      expect(body).toMatchObject({ ok: false, role: "leader" });
      expect(body.notSynced).toContain("gadgets");
      expect((await fetch(`${base}/healthz`)).status).toBe(200);

      const crd = testCrd(group, "Gadget", { type: "object", "x-kubernetes-preserve-unknown-fields": true });
      const crds = {
        group: "apiextensions.k8s.io",
        version: "v1",
        plural: "customresourcedefinitions",
        kind: "CustomResourceDefinition",
        namespaced: false,
      };
      await client.create(crds, crd);
      await eventually(async () => expect((await fetch(`${base}/readyz`)).status).toBe(200), {
        timeoutMs: 60_000,
      });
      const metrics = await (await fetch(`${base}/metrics`)).text();
      expect(metrics).toContain('rest_client_requests_total{verb="list",resource="configmaps",code="200"}');
      expect(metrics).toContain("sprout_informer_relists_total");
      await client.delete(crds, undefined, `gadgets.${group}`);
    } finally {
      await manager.stop();
    }
  });
});
