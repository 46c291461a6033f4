/**
 * Node simulator benchmark (not a test): N VMs in the virtual cloud registered as Nodes on a real
 * apiserver, then held (leases renewed) for a while. Writes test/bench/results/nodesim.json.
 * Usage: npm run bench:nodesim [-- --nodes 5000 --hold-seconds 60 --lease-renew-seconds 30]
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { CloudClient } from "../../src/sim/cloud/client.ts";
import { NodeSimulator } from "../../src/sim/node/nodesim.ts";
import { repoRoot } from "../../src/localplane/cache.ts";
import { LocalPlane } from "../../src/localplane/localplane.ts";
import { stderrProgress as log } from "../../src/localplane/progress.ts";
import { KubeClient, type KubeObject } from "../../src/runtime/client/client.ts";
import { Resources } from "../../src/runtime/client/resources.ts";
import { nodeApi } from "../../src/sim/node/node-api.ts";
import { startVirtualCloud } from "../../src/sim/cloud/process.ts";

const { values } = parseArgs({
  options: {
    nodes: { type: "string", default: "5000" },
    "hold-seconds": { type: "string", default: "60" },
    "lease-renew-seconds": { type: "string", default: "30" },
  },
});
const n = Number(values.nodes);
const holdMs = Number(values["hold-seconds"]) * 1000;
const renewMs = Number(values["lease-renew-seconds"]) * 1000;

const dir = await mkdtemp(join(tmpdir(), "sprout-bench-nodesim-"));
const plane = await LocalPlane.start({ controllerManager: false, progress: log });
const cloudProcess = await startVirtualCloud(dir);
try {
  const client = new KubeClient(await plane.kubeConfig(), { qps: 5000, burst: 5000 });
  const cloud = new CloudClient(cloudProcess.endpoint);
  log(`creating ${n} VMs`);
  for (let i = 0; i < n; i += 100) {
    await Promise.all(
      Array.from({ length: Math.min(100, n - i) }, (_, j) =>
        cloud.createVm({ name: `node-${i + j}`, zone: "zone-a", machineType: "small" }),
      ),
    );
  }
  const errors: string[] = [];
  const sim = new NodeSimulator({
    cloud,
    nodes: nodeApi(client),
    bootDelayMs: 0,
    leaseRenewMs: renewMs,
    statusRefreshMs: 5 * 60_000,
    onError: (err, what) => errors.push(`${what}: ${String(err)}`),
  });
  const start = performance.now();
  sim.start();
  while (sim.nodeNames.length < n) await new Promise((r) => setTimeout(r, 500));
  const registerSeconds = (performance.now() - start) / 1000;
  log(`${n} nodes registered in ${registerSeconds.toFixed(1)} s; holding for ${holdMs / 1000} s`);
  await new Promise((r) => setTimeout(r, holdMs));
  type Lease = KubeObject & { spec?: { renewTime?: string } };
  const leases = (await client.list<Lease>(Resources.leases, "kube-node-lease")).items;
  const cutoff = Date.now() - renewMs - 15_000;
  const fresh = leases.filter((l) => Date.parse(l.spec?.renewTime ?? "") > cutoff).length;
  const nodes = (await client.list(Resources.nodes, undefined, { limit: 1 })).metadata;
  const result = {
    benchmark: "nodesim",
    date: new Date().toISOString(),
    machine: { cpus: cpus().length, node: process.version },
    command: `npm run bench:nodesim -- --nodes ${n} --hold-seconds ${holdMs / 1000} --lease-renew-seconds ${renewMs / 1000}`,
    nodes: n,
    registerSeconds,
    registeredPerSecond: n / registerSeconds,
    leaseRenewSeconds: renewMs / 1000,
    leasesFreshAfterHold: fresh,
    simulatorRssMb: process.memoryUsage().rss / 2 ** 20,
    errors: errors.length,
    listedResourceVersion: nodes?.resourceVersion,
  };
  await sim.stop();
  await writeFile(
    join(repoRoot, "test", "bench", "results", "nodesim.json"),
    `${JSON.stringify(result, null, 2)}\n`,
  );
  log(`wrote test/bench/results/nodesim.json: ${JSON.stringify(result)}`);
} finally {
  await cloudProcess.stop();
  await plane.stop();
  await rm(dir, { recursive: true, force: true });
}
