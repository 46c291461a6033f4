import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CloudClient } from "../../src/sim/cloud/client.ts";
import { type NodeCondition, NodeSimulator, type NodeStatus } from "../../src/sim/node/nodesim.ts";
import { KubeClient, type KubeObject } from "../../src/runtime/client/client.ts";
import { Resources } from "../../src/runtime/client/resources.ts";
import { adminKubeConfig, eventually, failureStatus, uniqueName } from "../env/index.ts";
import { nodeApi } from "../../src/sim/node/node-api.ts";
import { startVirtualCloud, type VirtualCloudProcess } from "../../src/sim/cloud/process.ts";

type Node = KubeObject & { spec?: { providerID?: string }; status?: NodeStatus };

let dir: string;
let cloud: VirtualCloudProcess;
let client: KubeClient;
let sim: NodeSimulator;
let vms: CloudClient;
const errors: string[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "sprout-nodesim-"));
  cloud = await startVirtualCloud(dir);
  vms = new CloudClient(cloud.endpoint);
  client = new KubeClient(await adminKubeConfig(), { qps: 200, burst: 200 });
  sim = new NodeSimulator({
    cloud: vms,
    nodes: nodeApi(client),
    bootDelayMs: 500,
    leaseRenewMs: 1000,
    onError: (err, what) => errors.push(`${what}: ${String(err)}`),
  });
  sim.start();
});

afterAll(async () => {
  await sim.stop();
  await cloud.stop();
  await rm(dir, { recursive: true, force: true });
});

const condition = (node: Node, type: string): NodeCondition | undefined =>
  node.status?.conditions.find((c) => c.type === type);

describe("node simulator", () => {
  it("registers a Node for a running VM, heartbeats it, breaks it on demand and removes it with the VM", async () => {
    const name = uniqueName("node");
    const vm = await vms.createVm({ name, zone: "zone-b", machineType: "medium", tags: {} });
    const node = await eventually(() => client.get<Node>(Resources.nodes, undefined, name), {
      timeoutMs: 10_000,
    });
    expect(node.spec?.providerID).toBe(`virtual:///zone-b/${vm.id}`);
    expect(node.metadata?.labels).toMatchObject({ "node.kubernetes.io/instance-type": "medium" });
    await eventually(async () => {
      const n = await client.get<Node>(Resources.nodes, undefined, name);
      expect(condition(n, "Ready")?.status).toBe("True");
      expect(n.status?.capacity).toMatchObject({ cpu: "4", memory: "16Gi" });
    });
    const lease = async (): Promise<string | undefined> =>
      ((await client.get(Resources.leases, "kube-node-lease", name)).spec as { renewTime?: string })
        .renewTime;
    const firstRenew = await eventually(lease);
    await eventually(async () => expect(await lease()).not.toBe(firstRenew), { timeoutMs: 5000 });

    await sim.makeNotReady(name);
    await sim.setCondition(name, "KernelDeadlock", "True", "KernelHasDeadlock");
    await eventually(async () => {
      const n = await client.get<Node>(Resources.nodes, undefined, name);
      expect(condition(n, "Ready")?.status).toBe("False");
      expect(condition(n, "KernelDeadlock")?.status).toBe("True");
    });

    await vms.deleteVm(vm.id);
    await eventually(async () =>
      expect(await failureStatus(client.get(Resources.nodes, undefined, name))).toBe(404),
    );
  });

  it("makes a node vanish while its VM keeps running", async () => {
    const name = uniqueName("vanish");
    await vms.createVm({ name, zone: "zone-a", machineType: "small", tags: {} });
    await eventually(() => client.get<Node>(Resources.nodes, undefined, name), { timeoutMs: 10_000 });
    await sim.vanish(name);
    expect(await failureStatus(client.get(Resources.nodes, undefined, name))).toBe(404);
    // A fence: a VM created after the vanish registers and renews its Lease a second time, so the
    // simulator has read the VM feed past the vanish and gone through all its nodes since.
    const fence = uniqueName("fence");
    const fenceVm = await vms.createVm({ name: fence, zone: "zone-a", machineType: "small", tags: {} });
    const renewTime = async (): Promise<string | undefined> =>
      ((await client.get(Resources.leases, "kube-node-lease", fence)).spec as { renewTime?: string })
        .renewTime;
    const firstRenew = await eventually(renewTime, { timeoutMs: 10_000 });
    await eventually(async () => expect(await renewTime()).not.toBe(firstRenew), { timeoutMs: 10_000 });
    expect(await failureStatus(client.get(Resources.nodes, undefined, name))).toBe(404);
    expect(sim.nodeNames).not.toContain(name);
    expect(errors).toEqual([]);
    await vms.deleteVm(fenceVm.id);
    await eventually(async () =>
      expect(await failureStatus(client.get(Resources.nodes, undefined, fence))).toBe(404),
    );
  });
});
