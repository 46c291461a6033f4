import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LocalPlane } from "../../src/localplane/localplane.ts";
import { Informer } from "../../src/runtime/cache/informer.ts";
import { Indexers, objectKey } from "../../src/runtime/cache/store.ts";
import { KubeClient, type KubeObject } from "../../src/runtime/client/client.ts";
import type { WatchEvent } from "../../src/runtime/client/raw.ts";
import { Resources, type ResourceRef } from "../../src/runtime/client/resources.ts";
import { RuntimeMetrics } from "../../src/runtime/metrics/metrics.ts";
import { eventually } from "../env/index.ts";

/** A real client whose new watches wait while the gate is closed; closing it also ends the open watch. */
class GatedClient extends KubeClient {
  #open = true;
  #waiters: (() => void)[] = [];
  #active: AbortController | undefined;

  close(): void {
    this.#open = false;
    this.#active?.abort();
  }

  open(): void {
    this.#open = true;
    for (const resolve of this.#waiters.splice(0)) resolve();
  }

  override async watch<T extends KubeObject>(
    ref: ResourceRef,
    namespace: string | undefined,
    query: Record<string, string>,
    onEvent: (event: WatchEvent<T>) => void,
    opts: { signal?: AbortSignal; idleTimeoutMs?: number } = {},
  ): Promise<void> {
    if (!this.#open) await new Promise<void>((resolve) => this.#waiters.push(resolve));
    this.#active = new AbortController();
    const signal = opts.signal ? AbortSignal.any([opts.signal, this.#active.signal]) : this.#active.signal;
    return super.watch(ref, namespace, query, onEvent, { ...opts, signal });
  }
}

type ConfigMap = KubeObject & { data?: Record<string, string> };

let plane: LocalPlane;
let client: GatedClient;
let admin: KubeClient;
const ns = "default";

beforeAll(async () => {
  plane = await LocalPlane.start({ controllerManager: false });
  const kc = await plane.kubeConfig();
  client = new GatedClient(kc, { qps: 1000, burst: 1000 });
  admin = new KubeClient(kc, { qps: 1000, burst: 1000 });
});

afterAll(async () => {
  await plane.stop();
});

const cm = (
  name: string,
  data: Record<string, string> = {},
  labels: Record<string, string> = {},
): ConfigMap => ({
  apiVersion: "v1",
  kind: "ConfigMap",
  metadata: { name, namespace: ns, labels },
  data,
});

describe("Informer on a real apiserver", () => {
  it("syncs, follows changes, indexes, survives an apiserver restart and relists after a 410", async () => {
    await admin.create(Resources.configMaps, cm("a", { v: "1" }, { app: "x" }));
    await admin.create(Resources.configMaps, cm("b", {}, { app: "x" }));
    const metrics = new RuntimeMetrics();
    const informer = new Informer<ConfigMap>({
      client,
      resource: Resources.configMaps,
      namespace: ns,
      labelSelector: "app=x",
      indexers: { app: Indexers.label("app") },
      metrics,
    });
    const events: string[] = [];
    informer.addHandler({
      add: (o) => events.push(`add ${objectKey(o)}`),
      update: (_, o) => events.push(`update ${objectKey(o)}`),
      delete: (o) => events.push(`delete ${objectKey(o)}`),
    });
    informer.start();
    await informer.waitForSync();
    expect(informer.store.byIndex("app", "x").map(objectKey).sort()).toEqual(["default/a", "default/b"]);

    await admin.patch(Resources.configMaps, ns, "a", { data: { v: "2" } });
    await eventually(() => expect(informer.store.get("default/a")?.data).toEqual({ v: "2" }));
    // The apiserver sends managedFields with every object; the cache keeps none (listed or watched).
    expect(informer.store.list().every((o) => o.metadata && !("managedFields" in o.metadata))).toBe(true);

    // Restart the whole control plane: the watch breaks and must resume on its own.
    await plane.restart();
    await admin.create(Resources.configMaps, cm("c", {}, { app: "x" }));
    await eventually(() => expect(informer.store.get("default/c")).toBeDefined(), { timeoutMs: 60_000 });

    // Hold the informer off the apiserver, change things, restart and compact etcd: its next watch
    // asks for a resourceVersion that is gone (410), and only a relist can catch up.
    client.close();
    await admin.delete(Resources.configMaps, ns, "b");
    await admin.create(Resources.configMaps, cm("d", {}, { app: "x" }));
    await plane.restart();
    await plane.compactEtcd();
    events.length = 0;
    client.open();
    await eventually(
      () => {
        expect(informer.store.list().map(objectKey).sort()).toEqual(["default/a", "default/c", "default/d"]);
      },
      { timeoutMs: 60_000 },
    );
    expect(events).toEqual(expect.arrayContaining(["delete default/b", "add default/d"]));
    const relists = await metrics.registry.getSingleMetricAsString("sprout_informer_relists_total");
    expect(relists).toContain('reason="expired"');
    expect(informer.healthy()).toBe(true);
    await informer.stop();
  });
});
