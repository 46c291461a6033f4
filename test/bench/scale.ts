/**
 * Scale benchmark (not a test): on a local seed and the virtual cloud with zero latency, a
 * MachineDeployment goes 0 → N Running machines, rolls all N to a new class, then scales to 0.
 * sprout runs as its own process (`sprout start --control-kubeconfig …`), the node simulator in
 * this one. Per phase: wall time, API requests per machine by verb (sprout's client metrics and
 * the apiserver's apiserver_request_total), sprout's peak RSS, and the floor: the time a minimal
 * client needs for as many object writes on the same apiserver.
 * Writes test/bench/results/scale-<N>.json and docs/benchmarks/scale-<N>.svg.
 * Usage: npm run bench [-- --machines 5000 --qps 1000 --concurrent-syncs 50]
 */
import { mapLimit } from "../../src/runtime/meta/map-limit.ts";
import { readFile, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { CloudClient } from "../../src/sim/cloud/client.ts";
import { NodeSimulator } from "../../src/sim/node/nodesim.ts";
import { API_VERSION } from "../../src/api/constants.ts";
import { installCrds } from "../../src/cli/install-crds.ts";
import { MachineResources } from "../../src/api/resources.ts";
import type { Machine } from "../../src/api/v1alpha1/machine.ts";
import { repoRoot } from "../../src/localplane/cache.ts";
import { httpCall } from "../../src/localplane/http.ts";
import { LocalPlane } from "../../src/localplane/localplane.ts";
import { nodeApi } from "../../src/sim/node/node-api.ts";
import { freePort } from "../../src/localplane/ports.ts";
import { ManagedProcess } from "../../src/localplane/processes.ts";
import { stderrProgress as log } from "../../src/localplane/progress.ts";
import { startVirtualCloud } from "../../src/sim/cloud/process.ts";
import { Informer } from "../../src/runtime/cache/informer.ts";
import { KubeClient, type KubeObject } from "../../src/runtime/client/client.ts";
import { Resources } from "../../src/runtime/client/resources.ts";
import { sampleUserData } from "../../src/cli/sample.ts";
import { lineChart } from "./chart.ts";
import { delta, parseMetrics, sumBy } from "./metrics.ts";

const { values } = parseArgs({
  options: {
    machines: { type: "string", default: "1000" },
    qps: { type: "string", default: "1000" },
    "concurrent-syncs": { type: "string", default: "50" },
  },
});
const n = Number(values.machines);
const qps = Number(values.qps);
const ns = "bench";
const WRITE_VERBS = new Set(["create", "update", "patch", "delete"]);

const dir = await mkdtemp(join(tmpdir(), "sprout-bench-scale-"));
const plane = await LocalPlane.start({ progress: log });
const cloudProcess = await startVirtualCloud(dir);
const kc = await plane.kubeConfig();
await installCrds(kc);
const admin = new KubeClient(kc, { qps: 5000, burst: 5000 });
await admin.create(Resources.namespaces, { apiVersion: "v1", kind: "Namespace", metadata: { name: ns } });
await admin.create(Resources.secrets, {
  apiVersion: "v1",
  kind: "Secret",
  metadata: { name: "worker", namespace: ns },
  // The sample pool's cloud-config: the node simulator joins with the bootstrap token in it.
  stringData: { userData: await sampleUserData(admin) },
});
for (const name of ["small", "large"]) {
  await admin.create(MachineResources.machineClasses, {
    apiVersion: API_VERSION,
    kind: "MachineClass",
    metadata: { name, namespace: ns },
    provider: "virtual",
    providerSpec: { machineType: name },
    secretRef: { name: "worker", namespace: ns },
  });
}
const sim = new NodeSimulator({
  cloud: new CloudClient(cloudProcess.endpoint),
  nodes: nodeApi(admin),
  bootDelayMs: 0,
  leaseRenewMs: 60_000,
  statusRefreshMs: 5 * 60_000,
  parallelism: 64,
  onError: () => undefined,
});
sim.start();

const port = await freePort();
const sprout = await ManagedProcess.start({
  name: "sprout",
  command: process.execPath,
  args: [
    join(repoRoot, "src", "cli", "main.ts"),
    "start",
    `--control-kubeconfig=${plane.kubeconfigPath}`,
    `--namespace=${ns}`,
    `--port=${String(port)}`,
    "--leader-elect=false",
    "--view=false",
    `--kube-api-qps=${String(qps)}`,
    `--kube-api-burst=${String(qps * 2)}`,
    `--concurrent-syncs=${values["concurrent-syncs"]}`,
    "--log-level=warn",
  ],
  dir,
  env: { ...process.env, SPROUT_VIRTUAL_CLOUD_ENDPOINT: cloudProcess.endpoint },
});
const pid = sprout.pid;
const metricsUrl = `http://127.0.0.1:${String(port)}/metrics`;
for (;;) {
  const res = await httpCall(`http://127.0.0.1:${String(port)}/readyz`).catch(() => undefined);
  if (res?.status === 200) break;
  if (!sprout.running) throw new Error(`sprout exited:\n${sprout.logTail()}`);
  await new Promise((r) => setTimeout(r, 200));
}

const machines = new Informer<Machine & KubeObject>({
  client: admin,
  resource: MachineResources.machines,
  namespace: ns,
});
machines.start();
await machines.waitForSync();
const live = (): (Machine & KubeObject)[] =>
  machines.store.list().filter((m) => !m.metadata?.deletionTimestamp);
const running = (cls?: string): number =>
  live().filter((m) => m.status?.currentStatus?.phase === "Running" && (!cls || m.spec.class.name === cls))
    .length;

const t0 = performance.now();
const elapsed = (): number => (performance.now() - t0) / 1000;
const series: [number, number][] = [];
// A point when the count changes (and the one before it), so the chart keeps its steps.
let lastCount = -1;
let lastPoint: [number, number] = [0, 0];
const sampler = setInterval(() => {
  const point: [number, number] = [elapsed(), running()];
  if (point[1] !== lastCount) {
    if (series.at(-1) !== lastPoint) series.push(lastPoint);
    series.push(point);
    lastCount = point[1];
  }
  lastPoint = point;
}, 250);

const scrapeClient = async () => parseMetrics((await httpCall(metricsUrl)).body);
const scrapeServer = async () =>
  parseMetrics(
    (await admin.request<{ message: string }>("get", "metrics", { method: "GET", path: "/metrics" })).message,
  );
const resetPeakRss = () => writeFile(`/proc/${String(pid)}/clear_refs`, "5").catch(() => undefined);
const peakRssMiB = async (): Promise<number> => {
  const status = await readFile(`/proc/${String(pid)}/status`, "utf8");
  return Math.round(Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024);
};
const until = async (done: () => boolean): Promise<void> => {
  while (!done()) await new Promise((r) => setTimeout(r, 100));
};

/** Time of `writes` creates from a minimal client (50 in flight, no rate limit) on the same apiserver. */
async function floorSeconds(writes: number, phase: string): Promise<number> {
  const client = new KubeClient(kc, { qps: 100_000, burst: 100_000 });
  const floorNs = `floor-${phase}`;
  await client.create(Resources.namespaces, {
    apiVersion: "v1",
    kind: "Namespace",
    metadata: { name: floorNs },
  });
  const start = performance.now();
  await mapLimit(
    Array.from({ length: writes }, (_, i) => i),
    50,
    (i) =>
      client.create(Resources.configMaps, {
        apiVersion: "v1",
        kind: "ConfigMap",
        metadata: { name: `w-${String(i)}`, namespace: floorNs },
        data: { i: String(i) },
      }),
  );
  const seconds = (performance.now() - start) / 1000;
  await client.delete(Resources.namespaces, undefined, floorNs);
  return Math.round(seconds * 100) / 100;
}

const markers: [number, string][] = [];
async function phase(name: string, action: () => Promise<unknown>, done: () => boolean) {
  await resetPeakRss();
  const [c0, s0] = [await scrapeClient(), await scrapeServer()];
  log(`${name}: started`);
  markers.push([elapsed(), name]);
  const start = performance.now();
  await action();
  await until(done);
  const wallSeconds = Math.round((performance.now() - start) / 10) / 100;
  const [c1, s1] = [await scrapeClient(), await scrapeServer()];
  const clientTotals = delta(
    sumBy(c0, "rest_client_requests_total", "verb"),
    sumBy(c1, "rest_client_requests_total", "verb"),
  );
  const writes = Object.entries(clientTotals)
    .filter(([v]) => WRITE_VERBS.has(v))
    .reduce((sum, [, c]) => sum + c, 0);
  const machineGroup = (l: Record<string, string>) => l.group === "machine.sapcloud.io";
  const result = {
    phase: name,
    wallSeconds,
    sproutRequestsPerMachine: delta(
      sumBy(c0, "rest_client_requests_total", "verb"),
      sumBy(c1, "rest_client_requests_total", "verb"),
      n,
    ),
    sproutWritesPerMachine: delta(
      sumBy(c0, "rest_client_requests_total", "resource", (l) => WRITE_VERBS.has(l.verb ?? "")),
      sumBy(c1, "rest_client_requests_total", "resource", (l) => WRITE_VERBS.has(l.verb ?? "")),
      n,
    ),
    apiserverRequestsPerMachine: {
      "machine.sapcloud.io": delta(
        sumBy(s0, "apiserver_request_total", "verb", machineGroup),
        sumBy(s1, "apiserver_request_total", "verb", machineGroup),
        n,
      ),
      all: delta(
        sumBy(s0, "apiserver_request_total", "verb"),
        sumBy(s1, "apiserver_request_total", "verb"),
        n,
      ),
    },
    reconcilesPerMachine: Object.fromEntries(
      ["machine", "machine-termination", "machineset", "machinedeployment"].map((controller) => [
        controller,
        delta(
          sumBy(c0, "controller_runtime_reconcile_total", "result", (l) => l.controller === controller),
          sumBy(c1, "controller_runtime_reconcile_total", "result", (l) => l.controller === controller),
          n,
        ),
      ]),
    ),
    sproutPeakRssMiB: await peakRssMiB(),
    sproutHeapUsedMiB: Math.round(
      (c1.find((m) => m.name === "nodejs_heap_size_used_bytes")?.value ?? 0) / 2 ** 20,
    ),
    sproutWrites: writes,
    floorSeconds: await floorSeconds(writes, name),
  };
  log(
    `${name}: ${String(wallSeconds)} s, ${String(writes)} writes (floor ${String(result.floorSeconds)} s), peak RSS ${String(result.sproutPeakRssMiB)} MiB`,
  );
  return result;
}

const deployment = {
  apiVersion: API_VERSION,
  kind: "MachineDeployment",
  metadata: { name: "pool", namespace: ns, labels: { name: "pool" } },
  spec: {
    replicas: 0,
    selector: { matchLabels: { name: "pool" } },
    strategy: { type: "RollingUpdate", rollingUpdate: { maxSurge: "10%", maxUnavailable: 0 } },
    template: {
      metadata: { labels: { name: "pool" } },
      spec: { class: { kind: "MachineClass", name: "small" } },
    },
  },
};
await admin.create(MachineResources.machineDeployments, deployment);
const patch = (body: unknown, sub?: "scale") =>
  admin.patch(MachineResources.machineDeployments, ns, "pool", body, "merge", sub);

try {
  const phases = [
    await phase(
      "scale-up",
      () => patch({ spec: { replicas: n } }, "scale"),
      () => running("small") === n && live().length === n,
    ),
    await phase(
      "rollout",
      () => patch({ spec: { template: { spec: { class: { kind: "MachineClass", name: "large" } } } } }),
      () => running("large") === n && machines.store.size === n,
    ),
    await phase(
      "scale-down",
      () => patch({ spec: { replicas: 0 } }, "scale"),
      () => machines.store.size === 0,
    ),
  ];
  clearInterval(sampler);
  series.push([elapsed(), running()]);
  const result = {
    benchmark: "scale",
    date: new Date().toISOString(),
    machines: n,
    settings: {
      kubeApiQps: qps,
      concurrentSyncs: Number(values["concurrent-syncs"]),
      setConcurrentSyncs: 10,
      virtualCloudLatencyMs: 0,
      nodeBootDelayMs: 0,
      rollingUpdate: { maxSurge: "10%", maxUnavailable: 0 },
    },
    machine: { cpus: cpus().length, cpu: cpus()[0]?.model ?? "", node: process.version },
    phases,
    runningOverTime: series.map(([t, r]) => [Math.round(t * 10) / 10, r]),
  };
  await mkdir(join(repoRoot, "test", "bench", "results"), { recursive: true });
  const out = join(repoRoot, "test", "bench", "results", `scale-${String(n)}.json`);
  await writeFile(out, `${JSON.stringify(result, null, 2)}\n`);
  await mkdir(join(repoRoot, "docs", "benchmarks"), { recursive: true });
  const svg = join(repoRoot, "docs", "benchmarks", `scale-${String(n)}.svg`);
  await writeFile(
    svg,
    lineChart({
      points: series,
      markers,
      title: `Running machines: 0 → ${String(n)}, roll all to a new class, → 0 (sprout, virtual cloud)`,
      xLabel: "seconds",
      yLabel: "Running machines",
    }),
  );
  log(`wrote ${out} and ${svg}`);
} finally {
  clearInterval(sampler);
  await machines.stop();
  await sprout.stop();
  await sim.stop();
  await cloudProcess.stop();
  await plane.stop();
  await rm(dir, { recursive: true, force: true });
}
