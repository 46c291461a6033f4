/**
 * Runtime benchmark (not a test): informer sync over N objects on a real apiserver, and work-queue
 * and controller throughput. Writes test/bench/results/runtime.json.
 * Usage: npm run bench:runtime [-- --objects 10000]
 */
import { writeFile } from "node:fs/promises";
import { cpus, totalmem } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { repoRoot } from "../../src/localplane/cache.ts";
import { LocalPlane } from "../../src/localplane/localplane.ts";
import { stderrProgress } from "../../src/localplane/progress.ts";
import { Informer } from "../../src/runtime/cache/informer.ts";
import { KubeClient } from "../../src/runtime/client/client.ts";
import { Resources } from "../../src/runtime/client/resources.ts";
import { Controller } from "../../src/runtime/controller/controller.ts";
import { WorkQueue } from "../../src/runtime/workqueue/queue.ts";
import { ExponentialRateLimiter } from "../../src/runtime/workqueue/ratelimiter.ts";

const { values } = parseArgs({
  options: {
    objects: { type: "string", default: "10000" },
    "queue-ops": { type: "string", default: "1000000" },
  },
});
const objects = Number(values.objects);
const queueOps = Number(values["queue-ops"]);
const log = stderrProgress;

async function runPool(
  total: number,
  concurrency: number,
  fn: (i: number) => Promise<unknown>,
): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) await fn(next++);
    }),
  );
}

const heapMb = (): number => {
  globalThis.gc?.();
  return process.memoryUsage().heapUsed / 2 ** 20;
};

async function informerBench(): Promise<Record<string, number>> {
  const plane = await LocalPlane.start({ controllerManager: false, progress: log });
  try {
    const client = new KubeClient(await plane.kubeConfig(), { qps: 10_000, burst: 10_000 });
    const namespace = "bench";
    await client.create(Resources.namespaces, {
      apiVersion: "v1",
      kind: "Namespace",
      metadata: { name: namespace },
    });
    log(`creating ${objects} ConfigMaps`);
    const writeStart = performance.now();
    await runPool(objects, 64, (i) =>
      client.create(Resources.configMaps, {
        apiVersion: "v1",
        kind: "ConfigMap",
        metadata: { name: `cm-${i}`, namespace, labels: { bench: "true", shard: String(i % 16) } },
        data: { index: String(i), payload: "x".repeat(256) },
      }),
    );
    const writeSeconds = (performance.now() - writeStart) / 1000;
    const heapBefore = heapMb();
    const informer = new Informer({ client, resource: Resources.configMaps, namespace, resyncMs: 0 });
    const syncStart = performance.now();
    informer.start();
    await informer.waitForSync();
    const syncSeconds = (performance.now() - syncStart) / 1000;
    const heapAfter = heapMb();
    await informer.stop();
    log(`informer synced ${informer.store.size} objects in ${syncSeconds.toFixed(2)} s`);
    return {
      objects: informer.store.size,
      createSeconds: writeSeconds,
      createPerSecond: objects / writeSeconds,
      syncSeconds,
      heapMbForCache: heapAfter - heapBefore,
      heapKbPerObject: ((heapAfter - heapBefore) * 1024) / objects,
      rssMbAfterSync: process.memoryUsage().rss / 2 ** 20,
    };
  } finally {
    await plane.stop();
  }
}

async function queueBench(): Promise<Record<string, number>> {
  const q = new WorkQueue({ name: "bench", rateLimiter: new ExponentialRateLimiter() });
  const keys = 10_000;
  let handled = 0;
  const start = performance.now();
  const workers = Array.from({ length: 8 }, async () => {
    for (;;) {
      const k = await q.get();
      if (k === undefined) return;
      handled++;
      q.done(k);
    }
  });
  for (let i = 0; i < queueOps; i++) {
    q.add(`k${i % keys}`);
    if (i % 1000 === 0) await new Promise((r) => setImmediate(r));
  }
  while (q.length > 0 || q.processing > 0) await new Promise((r) => setImmediate(r));
  const seconds = (performance.now() - start) / 1000;
  q.shutDown();
  await Promise.all(workers);
  log(`workqueue: ${queueOps} adds, ${handled} handed out in ${seconds.toFixed(2)} s`);
  return { adds: queueOps, distinctKeys: keys, handled, seconds, addsPerSecond: queueOps / seconds };
}

async function controllerBench(): Promise<Record<string, number>> {
  const keys = 100_000;
  let done = 0;
  const c = new Controller({
    name: "bench",
    workers: 8,
    reconcile: () => {
      done++;
      return Promise.resolve(undefined);
    },
  });
  c.start();
  const start = performance.now();
  for (let i = 0; i < keys; i++) c.enqueue(`ns/k${i}`);
  while (done < keys) await new Promise((r) => setImmediate(r));
  const seconds = (performance.now() - start) / 1000;
  await c.stop();
  log(`controller: ${keys} reconciles in ${seconds.toFixed(2)} s`);
  return { reconciles: keys, workers: 8, seconds, reconcilesPerSecond: keys / seconds };
}

const result = {
  benchmark: "runtime",
  date: new Date().toISOString(),
  machine: {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model,
    memoryGiB: totalmem() / 2 ** 30,
    node: process.version,
  },
  command: `npm run bench:runtime -- --objects ${objects} --queue-ops ${queueOps}`,
  informer: await informerBench(),
  workqueue: await queueBench(),
  controller: await controllerBench(),
};
const out = join(repoRoot, "test", "bench", "results", "runtime.json");
await writeFile(out, `${JSON.stringify(result, null, 2)}\n`);
log(`wrote ${out}`);
