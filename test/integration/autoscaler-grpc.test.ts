import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { status } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Annotations, AutoscalerKeys, WellKnownNodeLabels } from "../../src/api/constants.ts";
import type { NodeObject } from "../../src/api/core.ts";
import { MachineResources } from "../../src/api/resources.ts";
import type { Machine } from "../../src/api/v1alpha1/machine.ts";
import type { MachineDeployment } from "../../src/api/v1alpha1/machinedeployment.ts";
import { AutoscalerProvider } from "../../src/controllers/autoscaler/provider.ts";
import { type AutoscalerServer, startAutoscalerServer } from "../../src/controllers/autoscaler/server.ts";
import { clientCert, ensurePki } from "../../src/localplane/pki.ts";
import { Resources } from "../../src/runtime/client/resources.ts";
import { cloudProviderClient, type CloudProviderClient, officialNodeType } from "../env/autoscaler.ts";
import { createDeployment, isLive, machinesOf, patchDeployment, runningLive } from "../env/deployments.ts";
import { eventually, testNamespace } from "../env/index.ts";
import { createWorkerClass, type MachineRig, startMachineRig } from "../env/machines.ts";

let ns: string;
let rig: MachineRig;
let server: AutoscalerServer;
let ca: CloudProviderClient;

const sizes = (min: number, max: number) => ({
  [AutoscalerKeys.minSize]: String(min),
  [AutoscalerKeys.maxSize]: String(max),
});
const id = (md: string): string => `${ns}.${md}`;
const live = async (md: string): Promise<Machine[]> => (await machinesOf(rig.client, ns, md)).filter(isLive);
const waitRunning = (md: string, count: number) =>
  eventually(
    async () => {
      const ms = await live(md);
      expect(ms).toHaveLength(count);
      expect(runningLive(ms)).toHaveLength(count);
      return ms;
    },
    { timeoutMs: 60_000 },
  );
const nodeOf = (m: Machine): Promise<NodeObject> =>
  rig.client.get<NodeObject>(Resources.nodes, undefined, m.metadata?.labels?.node ?? "");
const grpcNode = (n: NodeObject) => ({ providerID: n.spec?.providerID ?? "", name: n.metadata?.name ?? "" });
const deployment = (md: string) =>
  rig.client.get<MachineDeployment>(MachineResources.machineDeployments, ns, md);

beforeAll(async () => {
  ns = await testNamespace("autoscaler");
  rig = await startMachineRig(ns);
  await createWorkerClass(rig.client, ns);
  const small = await rig.client.get<Record<string, unknown>>(MachineResources.machineClasses, ns, "small");
  await rig.client.create(MachineResources.machineClasses, {
    ...small,
    metadata: { name: "sized", namespace: ns },
    nodeTemplate: {
      capacity: { cpu: "4", memory: "16Gi", gpu: "1" },
      instanceType: "m5.xlarge",
      region: "eu-1",
      zone: "eu-1a",
      architecture: "arm64",
    },
  });
  const pool = { labels: { pool: "a" } };
  const taints = [{ key: "dedicated", value: "a", effect: "NoSchedule" }];
  await createDeployment(rig.client, ns, "pool-a", {
    replicas: 2,
    className: "sized",
    machineSpec: { nodeTemplate: { metadata: pool, spec: { taints } } },
  });
  await createDeployment(rig.client, ns, "pool-b", { replicas: 1, className: "small" });
  await createDeployment(rig.client, ns, "plain", { replicas: 1, className: "small" });
  await patchDeployment(rig.client, ns, "pool-a", { metadata: { annotations: sizes(1, 4) } });
  await patchDeployment(rig.client, ns, "pool-b", {
    metadata: {
      annotations: {
        ...sizes(0, 3),
        [Annotations.scaleDownUnneededTime]: "5m",
        [Annotations.scaleDownUtilizationThreshold]: "0.4",
      },
    },
  });
  server = await startAutoscalerServer({
    provider: new AutoscalerProvider({ client: rig.client, namespace: ns }),
    address: "127.0.0.1:0",
  });
  ca = cloudProviderClient(`127.0.0.1:${server.port}`);
  await Promise.all([waitRunning("pool-a", 2), waitRunning("pool-b", 1), waitRunning("plain", 1)]);
}, 120_000);

afterAll(async () => {
  ca.close();
  await server.stop();
  await rig.stop();
});

describe("externalgrpc cloud provider", () => {
  it("NodeGroups: deployments with both size annotations, as <namespace>.<name>", async () => {
    await ca.call("Refresh");
    const { nodeGroups } = await ca.call<{ nodeGroups: { id: string; minSize: number; maxSize: number }[] }>(
      "NodeGroups",
    );
    const groups = nodeGroups.map(({ id, minSize, maxSize }) => ({ id, minSize, maxSize }));
    expect(groups.sort((a, b) => a.id.localeCompare(b.id))).toEqual([
      { id: id("pool-a"), minSize: 1, maxSize: 4 },
      { id: id("pool-b"), minSize: 0, maxSize: 3 },
    ]);
  });

  it("NodeGroupForNode: by the providerID's last segment, then by name; other nodes have no group", async () => {
    const group = async (node: Record<string, unknown>) =>
      (await ca.call<{ nodeGroup: { id: string } }>("NodeGroupForNode", { node })).nodeGroup.id;
    for (const m of await live("pool-a")) {
      const n = await nodeOf(m);
      expect(await group(grpcNode(n))).toBe(id("pool-a"));
      const last = n.spec?.providerID?.split("/").pop() ?? "";
      expect(await group({ providerID: `other:///somewhere/${last}`, name: "x" })).toBe(id("pool-a"));
      expect(await group({ name: n.metadata?.name })).toBe(id("pool-a"));
    }
    const [plain] = await live("plain");
    expect(await group(grpcNode(await nodeOf(plain as Machine)))).toBe("");
    expect(await group({ providerID: "virtual:///nowhere/none", name: "none" })).toBe("");
  });

  it("NodeGroupTargetSize and NodeGroupNodes: replicas, and machines as running instances", async () => {
    await ca.call("Refresh");
    expect(await ca.call("NodeGroupTargetSize", { id: id("pool-a") })).toEqual({ targetSize: 2 });
    const { instances } = await ca.call<{ instances: { id: string; status: { instanceState: number } }[] }>(
      "NodeGroupNodes",
      { id: id("pool-a") },
    );
    const providerIDs = await Promise.all(
      (await live("pool-a")).map(async (m) => (await nodeOf(m)).spec?.providerID),
    );
    expect(instances.map((i) => i.id).sort()).toEqual(providerIDs.sort());
    expect(instances.every((i) => i.status.instanceState === 1)).toBe(true);
  });

  it("NodeGroupTemplateNodeInfo: a core/v1 Node from the class's nodeTemplate and the node template", async () => {
    const answer = await ca.call<{ nodeInfo: Buffer; nodeBytes: Buffer }>("NodeGroupTemplateNodeInfo", {
      id: id("pool-a"),
    });
    expect(answer.nodeInfo.equals(answer.nodeBytes)).toBe(true);
    const Node = await officialNodeType();
    const node = Node.toObject(Node.decode(answer.nodeBytes), { defaults: false }) as {
      metadata: { name: string; labels: Record<string, string> };
      spec: { taints: unknown[] };
      status: {
        capacity: Record<string, { string: string }>;
        allocatable: Record<string, { string: string }>;
      };
    };
    expect(node.metadata.labels).toMatchObject({
      pool: "a",
      [WellKnownNodeLabels.arch]: "arm64",
      [WellKnownNodeLabels.instanceType]: "m5.xlarge",
      [WellKnownNodeLabels.zone]: "eu-1a",
      [WellKnownNodeLabels.region]: "eu-1",
    });
    expect(node.spec.taints).toEqual([{ key: "dedicated", value: "a", effect: "NoSchedule" }]);
    const quantities = (q: Record<string, { string: string }>) =>
      Object.fromEntries(Object.entries(q).map(([k, v]) => [k, v.string]));
    expect(quantities(node.status.capacity)).toEqual({
      cpu: "4",
      memory: "16Gi",
      "nvidia.com/gpu": "1",
      pods: "110",
    });
    expect(quantities(node.status.allocatable)).toEqual(quantities(node.status.capacity));
    const refused = await ca.refusal("NodeGroupTemplateNodeInfo", { id: id("pool-b") });
    expect(refused.code).toBe(status.UNIMPLEMENTED);
    expect(refused.details).toContain("has no nodeTemplate");
  });

  it("NodeGroupGetOptions: the autoscaler.gardener.cloud annotations over the defaults, in both encodings", async () => {
    const defaults = {
      scaleDownUtilizationThreshold: 0.5,
      scaleDownGpuUtilizationThreshold: 0.5,
      zeroOrMaxNodeScaling: true,
      scaleDownUnneededDuration: { seconds: "600", nanos: 0 },
      scaleDownUnreadyTime: { duration: String(1200e9) },
      MaxNodeProvisionDuration: { seconds: "900", nanos: 0 },
    };
    const { nodeGroupAutoscalingOptions: o } = await ca.call<{
      nodeGroupAutoscalingOptions: Record<string, unknown>;
    }>("NodeGroupGetOptions", { id: id("pool-b"), defaults });
    expect(o).toMatchObject({
      scaleDownUtilizationThreshold: 0.4,
      scaleDownGpuUtilizationThreshold: 0.5,
      zeroOrMaxNodeScaling: true,
      scaleDownUnneededDuration: { seconds: "300", nanos: 0 },
      scaleDownUnneededTime: { duration: String(300e9) },
      scaleDownUnreadyDuration: { seconds: "1200", nanos: 0 },
      scaleDownUnreadyTime: { duration: String(1200e9) },
      MaxNodeProvisionDuration: { seconds: "900", nanos: 0 },
      MaxNodeProvisionTime: { duration: String(900e9) },
    });
  });

  it("GPULabel, GetAvailableGPUTypes, Refresh and Cleanup answer; pricing is Unimplemented", async () => {
    expect(await ca.call("GPULabel")).toEqual({ label: AutoscalerKeys.gpuLabel });
    expect(await ca.call("GetAvailableGPUTypes")).toEqual({ gpuTypes: {} });
    expect(await ca.call("Refresh")).toEqual({});
    expect(await ca.call("Cleanup")).toEqual({});
    expect((await ca.refusal("PricingNodePrice", { node: { name: "x" } })).code).toBe(status.UNIMPLEMENTED);
    expect((await ca.refusal("PricingPodPrice")).code).toBe(status.UNIMPLEMENTED);
  });
});

describe("externalgrpc size changes", () => {
  it("bad requests get a gRPC status with a clear message and change nothing", async () => {
    await ca.call("Refresh");
    const versions = async () =>
      (await rig.client.list<MachineDeployment>(MachineResources.machineDeployments, ns)).items.map(
        (d) => `${d.metadata?.name}@${d.metadata?.resourceVersion}`,
      );
    const before = await versions();
    const machinesBefore = (await rig.client.list<Machine>(MachineResources.machines, ns)).items.length;
    const [b] = await live("pool-b");
    const nodeB = grpcNode(await nodeOf(b as Machine));
    const nodesA = await Promise.all((await live("pool-a")).map(async (m) => grpcNode(await nodeOf(m))));
    const cases: [string, Record<string, unknown>, status, string][] = [
      ["NodeGroupTargetSize", { id: id("nope") }, status.NOT_FOUND, "does not exist"],
      ["NodeGroupNodes", { id: id("plain") }, status.NOT_FOUND, "does not exist"],
      ["NodeGroupTemplateNodeInfo", { id: "" }, status.INVALID_ARGUMENT, "empty"],
      ["NodeGroupGetOptions", { id: id("nope") }, status.NOT_FOUND, "does not exist"],
      ["NodeGroupIncreaseSize", { id: id("nope"), delta: 1 }, status.NOT_FOUND, "does not exist"],
      ["NodeGroupIncreaseSize", { id: id("pool-a"), delta: 0 }, status.INVALID_ARGUMENT, "positive"],
      ["NodeGroupIncreaseSize", { id: id("pool-a"), delta: -1 }, status.INVALID_ARGUMENT, "positive"],
      ["NodeGroupIncreaseSize", { id: id("pool-a"), delta: 3 }, status.FAILED_PRECONDITION, "max size 4"],
      [
        "NodeGroupDeleteNodes",
        { id: id("pool-a"), nodes: [nodeB] },
        status.INVALID_ARGUMENT,
        "does not belong",
      ],
      ["NodeGroupDeleteNodes", { id: id("pool-a"), nodes: [] }, status.INVALID_ARGUMENT, "no nodes"],
      ["NodeGroupDeleteNodes", { id: id("pool-a"), nodes: nodesA }, status.FAILED_PRECONDITION, "min size 1"],
      [
        "NodeGroupDeleteNodes",
        { id: id("pool-b"), nodes: [{ name: "ghost" }] },
        status.INVALID_ARGUMENT,
        "ghost",
      ],
      ["NodeGroupDecreaseTargetSize", { id: id("pool-b"), delta: 0 }, status.INVALID_ARGUMENT, "negative"],
      ["NodeGroupDecreaseTargetSize", { id: id("pool-b"), delta: 1 }, status.INVALID_ARGUMENT, "negative"],
      [
        "NodeGroupDecreaseTargetSize",
        { id: id("pool-b"), delta: -1 },
        status.FAILED_PRECONDITION,
        "registered",
      ],
      ["NodeGroupDecreaseTargetSize", { id: id("nope"), delta: -1 }, status.NOT_FOUND, "does not exist"],
    ];
    for (const [rpc, request, code, words] of cases) {
      const refused = await ca.refusal(rpc, request);
      expect({ rpc, code: refused.code }).toEqual({ rpc, code });
      expect(refused.details).toContain(words);
    }
    expect(await versions()).toEqual(before);
    expect((await rig.client.list<Machine>(MachineResources.machines, ns)).items).toHaveLength(
      machinesBefore,
    );
  });

  it("IncreaseSize raises replicas; DeleteNodes removes exactly the named node through trigger-deletion", async () => {
    await ca.call("NodeGroupIncreaseSize", { id: id("pool-a"), delta: 1 });
    expect((await deployment("pool-a")).spec?.replicas).toBe(3);
    const three = await waitRunning("pool-a", 3);
    const victim = three[1] as Machine;
    await ca.call("Refresh");
    await ca.call("NodeGroupDeleteNodes", { id: id("pool-a"), nodes: [grpcNode(await nodeOf(victim))] });
    const d = await deployment("pool-a");
    expect(d.spec?.replicas).toBe(2);
    const a = d.metadata?.annotations ?? {};
    expect(a[Annotations.triggerDeletionByMCM]).toMatch(
      new RegExp(`^${victim.metadata?.name}~\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ$`),
    );
    expect(a[Annotations.lastReplicaChangeByScaler]).toMatch(/Z$/);
    const left = await eventually(
      async () => {
        const ms = await live("pool-a");
        expect(ms).toHaveLength(2);
        return ms.map((m) => m.metadata?.name).sort();
      },
      { timeoutMs: 60_000 },
    );
    expect(left).toEqual(
      three
        .filter((m) => m !== victim)
        .map((m) => m.metadata?.name)
        .sort(),
    );
  }, 120_000);

  it("a create refused for capacity is OutOfResources; DecreaseTargetSize cancels only unregistered machines", async () => {
    const [registered] = await live("pool-b");
    await rig.cloud.setFaults({ quota: 0 });
    try {
      await ca.call("NodeGroupIncreaseSize", { id: id("pool-b"), delta: 2 });
      type Instance = {
        id: string;
        status: { instanceState: number; errorInfo?: Record<string, unknown> | null };
      };
      const failed = await eventually(
        async () => {
          await ca.call("Refresh");
          const { instances } = await ca.call<{ instances: Instance[] }>("NodeGroupNodes", {
            id: id("pool-b"),
          });
          const pending = instances.filter((i) => i.id.startsWith(AutoscalerKeys.requestedScheme));
          expect(pending).toHaveLength(2);
          for (const i of pending) {
            expect(i.status.instanceState).toBe(2);
            expect(i.status.errorInfo).toMatchObject({
              errorCode: "ResourceExhausted",
              instanceErrorClass: 1,
            });
          }
          return pending;
        },
        { timeoutMs: 60_000 },
      );
      expect(failed).toHaveLength(2);
      const refused = await ca.refusal("NodeGroupDecreaseTargetSize", { id: id("pool-b"), delta: -3 });
      expect(refused.code).toBe(status.FAILED_PRECONDITION);
      expect((await deployment("pool-b")).spec?.replicas).toBe(3);
      await ca.call("NodeGroupDecreaseTargetSize", { id: id("pool-b"), delta: -2 });
      expect((await deployment("pool-b")).spec?.replicas).toBe(1);
      await eventually(
        async () =>
          expect((await live("pool-b")).map((m) => m.metadata?.name)).toEqual([registered?.metadata?.name]),
        { timeoutMs: 60_000 },
      );
    } finally {
      await rig.cloud.setFaults({ quota: -1 });
    }
  }, 120_000);

  it("with certificates, only clients of the CA get in; plain serving is loopback only", async () => {
    const dir = await mkdtemp(join(tmpdir(), "sprout-ca-tls-"));
    try {
      const pki = await ensurePki(dir);
      const user = await clientCert(pki, "cluster-autoscaler", []);
      const provider = new AutoscalerProvider({ client: rig.client, namespace: ns });
      const tls = { cert: pki.servingCert, key: pki.servingKey, ca: pki.caCert };
      const secure = await startAutoscalerServer({ provider, address: "127.0.0.1:0", tls });
      const [caPem, cert, key] = await Promise.all([pki.caCert, user.cert, user.key].map((f) => readFile(f)));
      const good = cloudProviderClient(`127.0.0.1:${secure.port}`, {
        ca: caPem as Buffer,
        cert: cert as Buffer,
        key: key as Buffer,
      });
      const plain = cloudProviderClient(`127.0.0.1:${secure.port}`);
      try {
        expect(await good.call("GPULabel")).toEqual({ label: AutoscalerKeys.gpuLabel });
        expect((await plain.refusal("GPULabel")).code).toBe(status.UNAVAILABLE);
      } finally {
        good.close();
        plain.close();
        await secure.stop();
      }
      await expect(startAutoscalerServer({ provider, address: "0.0.0.0:0" })).rejects.toThrow(
        /not a loopback address/,
      );
      await expect(startAutoscalerServer({ provider, address: "nonsense" })).rejects.toThrow(/not HOST:PORT/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
