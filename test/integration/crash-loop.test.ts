import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { CloudClient } from "../../src/sim/cloud/client.ts";
import { NodeSimulator } from "../../src/sim/node/nodesim.ts";
import { installCrds } from "../../src/cli/install-crds.ts";
import { MachineResources } from "../../src/api/resources.ts";
import type { Machine } from "../../src/api/v1alpha1/machine.ts";
import { KubeClient } from "../../src/runtime/client/client.ts";
import { Resources } from "../../src/runtime/client/resources.ts";
import { adminKubeConfig, eventually, testNamespace, uniqueName } from "../env/index.ts";
import { crashLoop, killNow } from "../env/crash.ts";
import { createWorkerClass } from "../env/machines.ts";
import { nodeApi } from "../../src/sim/node/node-api.ts";
import { startVirtualCloud, type VirtualCloudProcess } from "../../src/sim/cloud/process.ts";

const KILLS_PER_PHASE = 25;
const MACHINES = 6;
const CLUSTER_TAG = { "kubernetes.io/cluster/crash": "1" };

let dir: string;
let ns: string;
let cloudProcess: VirtualCloudProcess;
let cloud: CloudClient;
let client: KubeClient;
let sim: NodeSimulator;
let controller: ChildProcess | undefined;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "sprout-crash-"));
  cloudProcess = await startVirtualCloud(dir, ["--create-latency-ms", "400", "--delete-latency-ms", "200"]);
  cloud = new CloudClient(cloudProcess.endpoint);
  const kc = await adminKubeConfig();
  await installCrds(kc);
  client = new KubeClient(kc, { qps: 200, burst: 200 });
  ns = await testNamespace("crash");
  sim = new NodeSimulator({ cloud, nodes: nodeApi(client), bootDelayMs: 300, leaseRenewMs: 5000 });
  sim.start();
  await createWorkerClass(client, ns, {
    providerSpec: { machineType: "small", zone: "zone-a", tags: CLUSTER_TAG },
  });
});

afterAll(async () => {
  controller?.kill("SIGKILL");
  await sim.stop();
  await cloudProcess.stop();
  await rm(dir, { recursive: true, force: true });
});

function startController(): ChildProcess {
  const args = ["src/cli/main.ts", "machine-controller", "--control-kubeconfig", inject("kubeconfig")];
  args.push("--namespace", ns, "--leader-elect=false", "--address", "127.0.0.1", "--port", "0");
  args.push("--concurrent-syncs", "5", "--log-level", "error");
  const child = spawn(process.execPath, args, {
    stdio: "ignore",
    env: { ...process.env, SPROUT_VIRTUAL_CLOUD_ENDPOINT: cloudProcess.endpoint },
  });
  controller = child;
  return child;
}

const killController = (): Promise<void> => killNow(controller);

/** Never two live VMs for one machine name. */
async function assertNoDuplicates(): Promise<void> {
  const vms = await cloud.findVms({ tags: CLUSTER_TAG });
  const byName = new Map<string, number>();
  for (const vm of vms) byName.set(vm.name, (byName.get(vm.name) ?? 0) + 1);
  expect([...byName].filter(([, n]) => n > 1)).toEqual([]);
}

const killLoop = (): Promise<void> =>
  crashLoop({
    kills: KILLS_PER_PHASE,
    start: startController,
    check: assertNoDuplicates,
    minMs: 200,
    maxMs: 2500,
  });

const machinesLeft = async (): Promise<Machine[]> =>
  (await client.list<Machine & { metadata?: { name?: string } }>(MachineResources.machines, ns)).items;

describe("crash safety", () => {
  it(
    `survives ${2 * KILLS_PER_PHASE} kill -9 of the controller during creates and deletes`,
    { timeout: 600_000 },
    async () => {
      const names = Array.from({ length: MACHINES }, () => uniqueName("crash"));
      for (const name of names) {
        await client.create(MachineResources.machines, {
          apiVersion: "machine.sapcloud.io/v1alpha1",
          kind: "Machine",
          metadata: { name, namespace: ns },
          spec: { class: { kind: "MachineClass", name: "small" } },
        });
      }
      await killLoop();
      startController();
      await eventually(
        async () => {
          const phases = (await machinesLeft()).map((m) => m.status?.currentStatus?.phase);
          expect(phases).toEqual(Array.from({ length: MACHINES }, () => "Running"));
        },
        { timeoutMs: 120_000 },
      );
      const vms = await cloud.findVms({ tags: CLUSTER_TAG });
      expect(vms.map((vm) => vm.name).sort()).toEqual([...names].sort());
      for (const m of await machinesLeft()) {
        expect(vms.find((vm) => vm.name === m.metadata?.name)?.id).toBe(m.spec.providerID?.split("/").pop());
      }
      await killController();

      for (const name of names) await client.delete(MachineResources.machines, ns, name);
      await killLoop();
      startController();
      await eventually(async () => expect(await machinesLeft()).toEqual([]), { timeoutMs: 120_000 });
      expect(await cloud.findVms({ tags: CLUSTER_TAG })).toEqual([]);
      for (const name of names) {
        await eventually(async () =>
          expect(await client.find(Resources.nodes, undefined, name)).toBeUndefined(),
        );
      }
      await killController();
    },
  );
});
