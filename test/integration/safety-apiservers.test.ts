import { KubeConfig } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SafetyMetricNames } from "../../src/controllers/safety/metrics.ts";
import { KubeClient } from "../../src/runtime/client/client.ts";
import { createDeployment, machinesOf, phaseOf, runningLive } from "../env/deployments.ts";
import { adminKubeConfig, eventually, testNamespace } from "../env/index.ts";
import { createWorkerClass, type MachineRig, startMachineRig } from "../env/machines.ts";
import { metricValue } from "../env/safety.ts";
import { TcpProxy } from "../env/tcp-proxy.ts";

/** Probed every 300 ms; frozen after 1 s without an answer. The health timeout is 6 s. */
const SAFETY = { statusCheckPeriodMs: 300, statusCheckTimeoutMs: 1000 };
const HEALTH_TIMEOUT_MS = 6000;
/** An unreachable probe waits out its 1 s deadline: this many of them span the health timeout twice. */
const PROBES_PAST_HEALTH_TIMEOUT = (2 * HEALTH_TIMEOUT_MS) / 1000;

describe("apiserver-unreachable freeze on the real apiserver", () => {
  let ns: string;
  let rig: MachineRig;
  let proxy: TcpProxy;

  beforeAll(async () => {
    ns = await testNamespace("freeze");
    const admin = await adminKubeConfig();
    const server = new URL(admin.getCurrentCluster()?.server ?? "");
    proxy = await TcpProxy.start({ host: server.hostname, port: Number(server.port) });
    // The controllers reach the target cluster through the proxy; the simulated kubelets do not.
    const viaProxy = new KubeConfig();
    viaProxy.loadFromOptions({
      clusters: admin.clusters.map((c) => ({ ...c, server: `https://${server.hostname}:${proxy.port}` })),
      users: admin.users,
      contexts: admin.contexts,
      currentContext: admin.currentContext,
    });
    const target = new KubeClient(viaProxy, { qps: 200, burst: 200, requestTimeoutMs: 2000 });
    rig = await startMachineRig(ns, { healthTimeoutMs: HEALTH_TIMEOUT_MS }, { target, safety: SAFETY });
    await createWorkerClass(rig.client, ns, { providerSpec: { machineType: "small" } });
  }, 60_000);

  afterAll(async () => {
    await rig.stop();
    await proxy.stop();
  });

  const frozen = (): Promise<number> => metricValue(rig.manager.metrics.registry, SafetyMetricNames.frozen);
  const unreachableProbes = (): Promise<number> =>
    metricValue(rig.manager.metrics.registry, SafetyMetricNames.apiServerChecks, {
      cluster: "target",
      result: "unreachable",
    });

  it(
    "replaces no machine while the target cannot be seen for longer than the health timeout",
    { timeout: 240_000 },
    async () => {
      await createDeployment(rig.client, ns, "pool", { replicas: 2, className: "small" });
      const before = await eventually(
        async () => {
          const ms = runningLive(await machinesOf(rig.client, ns, "pool"));
          expect(ms).toHaveLength(2);
          return ms.map((m) => m.metadata?.name ?? "").sort();
        },
        { timeoutMs: 60_000 },
      );
      // One Node turns NotReady: its machine goes Unknown and its health timeout runs.
      const sick = (await machinesOf(rig.client, ns, "pool"))[0];
      await rig.sim.makeNotReady(sick?.metadata?.labels?.node ?? "");
      await eventually(async () => {
        const ms = await machinesOf(rig.client, ns, "pool");
        expect(ms.filter((m) => phaseOf(m) === "Unknown")).toHaveLength(1);
      });

      // The target goes away, and the machine controller freezes: the health timeout passes twice
      // over while it cannot see, and nothing is failed or replaced.
      proxy.cut();
      await eventually(async () => expect(await frozen()).toBe(1), { timeoutMs: 30_000 });
      const probes = await unreachableProbes();
      await eventually(
        async () =>
          expect(await unreachableProbes()).toBeGreaterThanOrEqual(probes + PROBES_PAST_HEALTH_TIMEOUT),
        { timeoutMs: 60_000 },
      );
      let ms = await machinesOf(rig.client, ns, "pool");
      expect(ms.map((m) => m.metadata?.name ?? "").sort()).toEqual(before);
      expect(ms.map(phaseOf).sort()).toEqual(["Running", "Unknown"]);

      // Meanwhile the node recovered; the target is back: thawed, every machine Running, the same two.
      await rig.sim.setCondition(sick?.metadata?.labels?.node ?? "", "Ready", "True", "KubeletReady");
      proxy.restore();
      await eventually(async () => expect(await frozen()).toBe(0), { timeoutMs: 30_000 });
      // The Node watch through the proxy comes back after its own reconnect backoff.
      ms = await eventually(
        async () => {
          const now = await machinesOf(rig.client, ns, "pool");
          expect(runningLive(now)).toHaveLength(2);
          return now;
        },
        { timeoutMs: 100_000 },
      );
      expect(ms.map((m) => m.metadata?.name ?? "").sort()).toEqual(before);
    },
  );
});
