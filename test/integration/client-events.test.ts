import { beforeAll, describe, expect, it } from "vitest";
import { installCrds } from "../../src/cli/install-crds.ts";
import { GROUP, VERSION } from "../../src/api/constants.ts";
import { type Clock, realClock } from "../../src/runtime/clock.ts";
import { isConflict, KubeClient, type KubeObject, retryOnConflict } from "../../src/runtime/client/client.ts";
import { mergePatch } from "../../src/runtime/client/patch.ts";
import { Resources, type ResourceRef } from "../../src/runtime/client/resources.ts";
import { EventRecorder } from "../../src/runtime/events/recorder.ts";
import { RuntimeMetrics } from "../../src/runtime/metrics/metrics.ts";
import { adminKubeConfig, eventually, testNamespace, uniqueName } from "../env/index.ts";

let client: KubeClient;
let metrics: RuntimeMetrics;
let ns: string;
const machines: ResourceRef = {
  group: GROUP,
  version: VERSION,
  plural: "machines",
  kind: "Machine",
  namespaced: true,
};

beforeAll(async () => {
  const kc = await adminKubeConfig();
  await installCrds(kc);
  metrics = new RuntimeMetrics();
  client = new KubeClient(kc, { qps: 100, burst: 100, metrics });
  ns = await testNamespace("client");
});

type Machine = KubeObject & { spec?: Record<string, unknown>; status?: Record<string, unknown> };

describe("KubeClient", () => {
  it("writes status only through the status subresource and retries conflicts", async () => {
    const name = uniqueName("m");
    const created = await client.create<Machine>(machines, {
      apiVersion: `${GROUP}/${VERSION}`,
      kind: "Machine",
      metadata: { name, namespace: ns },
      spec: { class: { kind: "MachineClass", name: "c" } },
    });
    // A plain update ignores status; the status subresource ignores spec.
    await client.update<Machine>(machines, { ...created, status: { lastKnownState: "x" } });
    const afterUpdate = await client.get<Machine>(machines, ns, name);
    expect(afterUpdate.status).toBeUndefined();
    await client.updateStatus<Machine>(machines, {
      ...afterUpdate,
      spec: { class: { kind: "MachineClass", name: "changed" } },
      status: { currentStatus: { phase: "Pending" } },
    });
    const afterStatus = await client.get<Machine>(machines, ns, name);
    expect(afterStatus.status).toEqual({ currentStatus: { phase: "Pending" } });
    expect(afterStatus.spec).toEqual({ class: { kind: "MachineClass", name: "c" } });

    // A stale resourceVersion conflicts; retryOnConflict re-reads and succeeds.
    await expect(client.updateStatus<Machine>(machines, { ...created, status: {} })).rejects.toSatisfy(
      isConflict,
    );
    let attempts = 0;
    await retryOnConflict(async () => {
      attempts++;
      const fresh = attempts === 1 ? created : await client.get<Machine>(machines, ns, name);
      return client.updateStatus<Machine>(machines, {
        ...fresh,
        status: { currentStatus: { phase: "Running" } },
      });
    });
    expect(attempts).toBe(2);

    // A merge patch carries only the change.
    const current = await client.get<Machine>(machines, ns, name);
    const desired = { ...current, status: { currentStatus: { phase: "Running", timeoutActive: false } } };
    const patch = mergePatch({ status: current.status }, { status: desired.status });
    expect(patch).toEqual({ status: { currentStatus: { timeoutActive: false } } });
    await client.patch(machines, ns, name, patch, "merge", "status");
    expect((await client.get<Machine>(machines, ns, name)).status).toEqual(desired.status);

    const text = await metrics.registry.getSingleMetricAsString("rest_client_requests_total");
    expect(text).toContain('verb="update",resource="machines/status",code="409"');
  });

  it("sends delete options (preconditions, grace period) with the DELETE", async () => {
    const name = uniqueName("cm");
    const cm = await client.create<KubeObject>(Resources.configMaps, {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name, namespace: ns },
    });
    await expect(client.delete(Resources.configMaps, ns, name, { uid: "not-its-uid" })).rejects.toSatisfy(
      isConflict,
    );
    expect(await client.find(Resources.configMaps, ns, name)).toBeDefined();
    await client.delete(Resources.configMaps, ns, name, { uid: cm.metadata?.uid ?? "" });
    expect(await client.find(Resources.configMaps, ns, name)).toBeUndefined();
  });

  it("throttles requests on the client side", async () => {
    // A clock that stands still: each request reserves its place in the bucket and says how long it waits.
    const waits: number[] = [];
    const clock: Clock = { ...realClock, now: () => 0, sleep: (ms) => Promise.resolve(void waits.push(ms)) };
    const slow = new KubeClient(client.kubeConfig, { qps: 5, burst: 1, clock });
    await Promise.all(Array.from({ length: 4 }, () => slow.list(Resources.configMaps, ns)));
    // One request from the burst, three more at 5 per second.
    expect(waits).toEqual([200, 400, 600]);
  });
});

type Event = KubeObject & { series?: { count: number }; note?: string; reason?: string };

describe("EventRecorder", () => {
  it("aggregates repeats into one event's series and caps events per object", async () => {
    const cm = await client.create(Resources.configMaps, {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: uniqueName("regarding"), namespace: ns },
    });
    const recorder = new EventRecorder({
      client,
      controller: "sprout-test",
      instance: "test",
      metrics,
      seriesFlushMs: 200,
      burstPerObject: 5,
      refillPerMinute: 0.001,
    });
    for (let i = 0; i < 50; i++) await recorder.record(cm, "Warning", "HotLoop", "Reconcile", "same failure");
    for (let i = 0; i < 10; i++)
      await recorder.record(cm, "Normal", `Distinct${i}`, "Reconcile", `note ${i}`);
    const list = async (): Promise<Event[]> =>
      (
        await client.list<Event>(Resources.events, ns, {
          fieldSelector: `regarding.name=${cm.metadata?.name}`,
        })
      ).items;
    await eventually(async () => {
      const hot = (await list()).filter((e) => e.reason === "HotLoop");
      expect(hot).toHaveLength(1);
      expect(hot[0]?.series?.count).toBe(50);
    });
    expect(await list()).toHaveLength(5);
    const dropped = await metrics.registry.getSingleMetricAsString("sprout_events_dropped_total");
    expect(dropped).toContain('reason="rate_limited"} 6');
  });
});
