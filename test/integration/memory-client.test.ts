import { beforeAll, describe, expect, it } from "vitest";
import { Finalizers } from "../../src/api/constants.ts";
import { installCrds } from "../../src/cli/install-crds.ts";
import { MachineResources } from "../../src/api/resources.ts";
import { isConflict, isNotFound, KubeClient, type KubeObject } from "../../src/runtime/client/client.ts";
import { KubeApiError, type WatchEvent } from "../../src/runtime/client/raw.ts";
import { Resources } from "../../src/runtime/client/resources.ts";
import { machine, type MachineObject } from "../builders/index.ts";
import { adminKubeConfig, eventually, testNamespace, uniqueName } from "../env/index.ts";
import { MemoryClient } from "../fakes/memory-client.ts";

/**
 * The contract of the in-memory client the unit tests use: the same cases, once against the real
 * apiserver of the test environment and once against MemoryClient, so the fake cannot drift from
 * the behaviour the controllers rely on.
 */

type Backend = () => Promise<{ client: KubeClient; ns: string }>;

const backends: [string, Backend][] = [
  [
    "the real apiserver",
    async () => {
      const kc = await adminKubeConfig();
      await installCrds(kc);
      return { client: new KubeClient(kc, { qps: 100, burst: 100 }), ns: await testNamespace("contract") };
    },
  ],
  ["MemoryClient", () => Promise.resolve({ client: new MemoryClient(), ns: "contract" })],
];

const configMap = (ns: string, name: string, labels: Record<string, string> = {}): KubeObject => ({
  apiVersion: "v1",
  kind: "ConfigMap",
  metadata: { name, namespace: ns, labels },
  data: { a: "1" },
});

async function failure(call: Promise<unknown>): Promise<KubeApiError> {
  try {
    await call;
  } catch (err) {
    if (err instanceof KubeApiError) return err;
    throw err;
  }
  throw new Error("expected the call to fail, and it succeeded");
}

describe.each(backends)("KubeClient contract: %s", (_name, backend) => {
  let client: KubeClient;
  let ns: string;
  const M = MachineResources.machines;

  beforeAll(async () => {
    ({ client, ns } = await backend());
  });

  const newMachine = (o: Parameters<typeof machine>[1] = {}): MachineObject =>
    machine(uniqueName("m"), { namespace: ns, finalizer: false, ...o });

  it("create sets uid, resourceVersion, creationTimestamp and generation; a custom resource's status is dropped", async () => {
    const m = newMachine({ phase: "Running" });
    const created = await client.create(M, m);
    expect(created.metadata).toMatchObject({ name: m.metadata?.name, namespace: ns, generation: 1 });
    expect(created.metadata?.uid).toMatch(/^[0-9a-f-]{36}$/);
    expect(created.metadata?.resourceVersion).toMatch(/^\d+$/);
    expect(created.metadata?.creationTimestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(created.status).toBeUndefined();
    expect(await client.get(M, ns, m.metadata?.name ?? "")).toEqual(created);
  });

  it("a second create of a name is AlreadyExists (409); get of a missing name is NotFound (404)", async () => {
    const m = newMachine();
    await client.create(M, m);
    const exists = await failure(client.create(M, m));
    expect([exists.code, exists.reason]).toEqual([409, "AlreadyExists"]);
    const missing = await failure(client.get(M, ns, "missing"));
    expect([missing.code, missing.reason]).toEqual([404, "NotFound"]);
    expect(isNotFound(missing)).toBe(true);
    expect(await client.find(M, ns, "missing")).toBeUndefined();
  });

  it("a Secret's stringData is stored base64-encoded in data", async () => {
    const name = uniqueName("s");
    await client.create(Resources.secrets, {
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name, namespace: ns },
      stringData: { token: "abc" },
    });
    const stored = await client.get(Resources.secrets, ns, name);
    expect(stored.data).toEqual({ token: Buffer.from("abc").toString("base64") });
    expect(stored.stringData).toBeUndefined();
  });

  it("lists by label selector, in pages", async () => {
    const app = uniqueName("app");
    for (const [name, tier] of [
      ["a", "web"],
      ["b", "web"],
      ["c", "db"],
    ] as const) {
      await client.create(Resources.configMaps, configMap(ns, `${app}-${name}`, { app, tier }));
    }
    const names = async (labelSelector: string): Promise<string[]> =>
      (await client.list(Resources.configMaps, ns, { labelSelector })).items
        .map((o) => o.metadata?.name ?? "")
        .sort();
    expect(await names(`app=${app},tier=web`)).toEqual([`${app}-a`, `${app}-b`]);
    expect(await names(`app=${app},tier!=web`)).toEqual([`${app}-c`]);
    expect(await names(`app=${app},tier in (db,cache)`)).toEqual([`${app}-c`]);
    expect(await names(`app=${app},!missing`)).toHaveLength(3);
    const first = await client.list(Resources.configMaps, ns, { labelSelector: `app=${app}`, limit: 2 });
    expect(first.items).toHaveLength(2);
    expect(first.metadata?.continue).toBeTruthy();
    const rest = await client.list(Resources.configMaps, ns, {
      labelSelector: `app=${app}`,
      limit: 2,
      continue: first.metadata?.continue ?? "",
    });
    expect(rest.items).toHaveLength(1);
    expect(rest.metadata?.continue ?? "").toBe("");
  });

  it("merge patch sets and removes fields; only a spec change moves the generation", async () => {
    const m = await client.create(M, newMachine({ labels: { keep: "1", drop: "1" } }));
    const name = m.metadata?.name ?? "";
    const labelled = await client.patch<MachineObject>(M, ns, name, {
      metadata: { labels: { drop: null, added: "1" } },
    });
    expect(labelled.metadata?.labels).toEqual({ keep: "1", added: "1" });
    expect(labelled.metadata?.generation).toBe(1);
    const moved = await client.patch<MachineObject>(M, ns, name, { spec: { providerID: "fake:///a" } });
    expect(moved.spec.providerID).toBe("fake:///a");
    expect(moved.metadata?.generation).toBe(2);
    expect(Number(moved.metadata?.resourceVersion)).toBeGreaterThan(
      Number(labelled.metadata?.resourceVersion),
    );
  });

  it("status is written only through the status subresource", async () => {
    const m = await client.create(M, newMachine());
    const name = m.metadata?.name ?? "";
    const ignored = await client.patch<MachineObject>(M, ns, name, { status: { lastKnownState: "x" } });
    expect(ignored.status).toBeUndefined();
    const written = await client.patch<MachineObject>(
      M,
      ns,
      name,
      { status: { lastKnownState: "y" }, spec: { providerID: "p" } },
      "merge",
      "status",
    );
    expect(written.status?.lastKnownState).toBe("y");
    expect(written.spec.providerID).toBeUndefined();
    const put = await client.updateStatus<MachineObject>(M, { ...written, status: { lastKnownState: "z" } });
    expect(put.status).toEqual({ lastKnownState: "z" });
    expect(put.metadata?.generation).toBe(1);
  });

  it("a stale resourceVersion is a Conflict (409), for update and for merge patch", async () => {
    const m = await client.create(M, newMachine());
    const name = m.metadata?.name ?? "";
    await client.patch(M, ns, name, { metadata: { labels: { touched: "1" } } });
    const put = await failure(client.update(M, { ...m, spec: { ...m.spec, providerID: "p" } }));
    expect([put.code, put.reason, isConflict(put)]).toEqual([409, "Conflict", true]);
    const patch = await failure(
      client.patch(M, ns, name, {
        metadata: { resourceVersion: m.metadata?.resourceVersion },
        spec: { providerID: "p" },
      }),
    );
    expect([patch.code, patch.reason]).toEqual([409, "Conflict"]);
    const current = await client.get<MachineObject>(M, ns, name);
    const ok = await client.patch<MachineObject>(M, ns, name, {
      metadata: { resourceVersion: current.metadata?.resourceVersion },
      spec: { providerID: "p" },
    });
    expect(ok.spec.providerID).toBe("p");
  });

  it("delete waits for finalizers, honours a uid precondition and ignores a missing object", async () => {
    const m = await client.create(M, newMachine({ finalizer: true }));
    const name = m.metadata?.name ?? "";
    const wrongUid = await failure(
      client.delete(M, ns, name, { uid: "00000000-0000-4000-8000-000000000000" }),
    );
    expect(wrongUid.code).toBe(409);
    await client.delete(M, ns, name, { uid: m.metadata?.uid ?? "" });
    const deleting = await client.get<MachineObject>(M, ns, name);
    expect(deleting.metadata?.deletionTimestamp).toBeTruthy();
    expect(deleting.metadata?.finalizers).toEqual([Finalizers.machineControllerManager]);
    await client.patch(M, ns, name, { metadata: { finalizers: null } });
    expect(await client.find(M, ns, name)).toBeUndefined();
    await client.delete(M, ns, name);
  });

  it("watch from a list's resourceVersion sees every later change in order", async () => {
    const app = uniqueName("w");
    const list = await client.list(Resources.configMaps, ns, { labelSelector: `app=${app}` });
    const events: string[] = [];
    const abort = new AbortController();
    const watching = client.watch<KubeObject>(
      Resources.configMaps,
      ns,
      { resourceVersion: list.metadata?.resourceVersion ?? "", labelSelector: `app=${app}` },
      (e: WatchEvent<KubeObject>) =>
        events.push(`${e.type} ${e.object.metadata?.name} ${JSON.stringify(e.object.data)}`),
      { signal: abort.signal },
    );
    await client.create(Resources.configMaps, configMap(ns, `${app}-1`, { app }));
    await client.create(Resources.configMaps, configMap(ns, `${app}-other`, { app: "other" }));
    await client.patch(Resources.configMaps, ns, `${app}-1`, { data: { a: "2" } });
    await client.delete(Resources.configMaps, ns, `${app}-1`);
    await eventually(() => expect(events).toHaveLength(3), { timeoutMs: 10_000, intervalMs: 20 });
    expect(events).toEqual([
      `ADDED ${app}-1 {"a":"1"}`,
      `MODIFIED ${app}-1 {"a":"2"}`,
      `DELETED ${app}-1 {"a":"2"}`,
    ]);
    abort.abort();
    await watching;
  });
});
