import { beforeAll, describe, expect, it } from "vitest";
import { API_VERSION } from "../../src/api/constants.ts";
import { installCrds } from "../../src/cli/install-crds.ts";
import { MachineResources } from "../../src/api/resources.ts";
import type { Machine } from "../../src/api/v1alpha1/machine.ts";
import { isConflict, KubeClient } from "../../src/runtime/client/client.ts";
import { PatchHelper, patchObject } from "../../src/runtime/client/patch.ts";
import { RuntimeMetrics } from "../../src/runtime/metrics/metrics.ts";
import { adminKubeConfig, testNamespace, uniqueName } from "../env/index.ts";

let client: KubeClient;
let metrics: RuntimeMetrics;
let ns: string;

beforeAll(async () => {
  const kc = await adminKubeConfig();
  await installCrds(kc);
  metrics = new RuntimeMetrics();
  client = new KubeClient(kc, { qps: 100, burst: 100, metrics });
  ns = await testNamespace("patch");
});

const newMachine = (): Promise<Machine> =>
  client.create<Machine>(MachineResources.machines, {
    apiVersion: API_VERSION,
    kind: "Machine",
    metadata: { name: uniqueName("m"), namespace: ns },
    spec: { class: { kind: "MachineClass", name: "c" } },
  });

/** Patches of Machines sent so far (metadata/spec and status). */
const patches = async (): Promise<number> =>
  (await metrics.apiRequests.get()).values
    .filter((v) => v.labels.verb === "patch" && String(v.labels.resource).startsWith("machines"))
    .reduce((n, v) => n + v.value, 0);

describe("patchObject", () => {
  it("writes metadata, spec and status in two patches, and nothing when nothing changed", async () => {
    const read = await newMachine();
    const draft: Machine = {
      ...read,
      metadata: { ...read.metadata, labels: { node: "n1" }, finalizers: ["f.example/x"] },
      spec: { ...read.spec, providerID: "virtual:///n1" },
      status: { currentStatus: { phase: "Pending", timeoutActive: true } },
    };
    const before = await patches();
    const written = await patchObject(client, MachineResources.machines, read, draft);
    expect(await patches()).toBe(before + 2);
    const live = await client.get<Machine>(MachineResources.machines, ns, read.metadata?.name ?? "");
    expect(live.metadata?.labels).toEqual({ node: "n1" });
    expect(live.metadata?.finalizers).toEqual(["f.example/x"]);
    expect(live.spec.providerID).toBe("virtual:///n1");
    expect(live.status?.currentStatus?.phase).toBe("Pending");
    expect(written.metadata?.resourceVersion).toBe(live.metadata?.resourceVersion);

    expect(await patchObject(client, MachineResources.machines, live, { ...live })).toBe(live);
    expect(await patches()).toBe(before + 2);
    await patchObject(client, MachineResources.machines, live, {
      ...live,
      metadata: { ...live.metadata, finalizers: [] },
    });
  });

  it("fails with a conflict when the object changed since it was read; status alone is not guarded", async () => {
    const read = await newMachine();
    const helper = new PatchHelper(client, MachineResources.machines, read);
    await client.patch(MachineResources.machines, ns, read.metadata?.name ?? "", {
      metadata: { annotations: { other: "writer" } },
    });
    const stale: Machine = { ...read, metadata: { ...read.metadata, labels: { mine: "x" } } };
    const err = await helper.patch(stale).catch((e: unknown) => e);
    expect(isConflict(err)).toBe(true);
    const statusOnly: Machine = { ...read, status: { lastKnownState: "s" } };
    const written = await new PatchHelper(client, MachineResources.machines, read).patch(statusOnly);
    expect(written.status?.lastKnownState).toBe("s");
    expect(written.metadata?.annotations).toEqual({ other: "writer" });
  });
});
