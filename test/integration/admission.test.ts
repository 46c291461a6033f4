import { type KubeConfig } from "@kubernetes/client-node";
import { beforeAll, describe, expect, it } from "vitest";
import { API_VERSION, GROUP, VERSION } from "../../src/api/constants.ts";
import { installCrds } from "../../src/api/install.ts";
import { KubeApiError, rawRequest } from "../../src/runtime/client/raw.ts";
import { adminKubeConfig, testNamespace, uniqueName } from "../env/index.ts";

let kc: KubeConfig;
let ns: string;

beforeAll(async () => {
  kc = await adminKubeConfig();
  await installCrds(kc);
  ns = await testNamespace("admission");
});

const PLURALS: Record<string, string> = {
  Machine: "machines",
  MachineSet: "machinesets",
  MachineDeployment: "machinedeployments",
  MachineClass: "machineclasses",
};

type Obj = Record<string, unknown> & { kind: string };

async function create<T = Obj>(obj: Obj): Promise<T> {
  const name = uniqueName(obj.kind.toLowerCase());
  return rawRequest<T>(kc, {
    method: "POST",
    path: `/apis/${GROUP}/${VERSION}/namespaces/${ns}/${PLURALS[obj.kind] ?? ""}`,
    body: { apiVersion: API_VERSION, ...obj, metadata: { name } },
  });
}

async function rejection(obj: Obj): Promise<string> {
  try {
    await create(obj);
  } catch (err) {
    if (err instanceof KubeApiError && err.code === 422) return err.message;
    throw err;
  }
  throw new Error(`${obj.kind} was accepted`);
}

const machineSpec = (extra: Record<string, unknown> = {}) => ({
  class: { kind: "MachineClass", name: "small" },
  ...extra,
});
const template = (spec: Record<string, unknown> = {}, labels: Record<string, string> = { pool: "a" }) => ({
  metadata: { labels },
  spec: machineSpec(spec),
});
const deployment = (spec: Record<string, unknown>): Obj => ({
  kind: "MachineDeployment",
  spec: { replicas: 1, selector: { matchLabels: { pool: "a" } }, template: template(), ...spec },
});
const machineSet = (spec: Record<string, unknown>): Obj => ({
  kind: "MachineSet",
  spec: { replicas: 1, selector: { matchLabels: { pool: "a" } }, template: template(), ...spec },
});
const machine = (spec: Record<string, unknown>): Obj => ({ kind: "Machine", spec: machineSpec(spec) });
const machineClass = (fields: Record<string, unknown>): Obj => ({
  kind: "MachineClass",
  providerSpec: { ami: "ami-1" },
  ...fields,
});

describe("admission rejects what MCM would skip, naming the field and the fix", () => {
  it.each<[string, Obj, string[]]>([
    [
      "negative replicas",
      deployment({ replicas: -1 }),
      ["spec.replicas", "should be greater than or equal to 0"],
    ],
    [
      "an unknown strategy type",
      deployment({ strategy: { type: "Blue" } }),
      ["spec.strategy.type", 'Unsupported value: "Blue"'],
    ],
    [
      "maxSurge and maxUnavailable both zero",
      deployment({
        strategy: { type: "RollingUpdate", rollingUpdate: { maxSurge: 0, maxUnavailable: "0%" } },
      }),
      ["spec.strategy.rollingUpdate", "maxSurge and maxUnavailable must not both be zero"],
    ],
    [
      "a maxSurge that is neither integer nor percentage",
      deployment({ strategy: { rollingUpdate: { maxSurge: "two", maxUnavailable: 1 } } }),
      ["spec.strategy.rollingUpdate.maxSurge", "must be a non-negative integer or a percentage such as 25%"],
    ],
    [
      "a negative maxUnavailable",
      deployment({ strategy: { rollingUpdate: { maxSurge: 1, maxUnavailable: -1 } } }),
      ["spec.strategy.rollingUpdate.maxUnavailable", "must be a non-negative integer or a percentage"],
    ],
    [
      "rollingUpdate with the Recreate strategy",
      deployment({ strategy: { type: "Recreate", rollingUpdate: { maxSurge: 1 } } }),
      ["spec.strategy", "rollingUpdate may only be set when type is RollingUpdate"],
    ],
    [
      "a MachineDeployment without template",
      { kind: "MachineDeployment", spec: { replicas: 1 } },
      ["spec.template", "Required value"],
    ],
    [
      "a selector the template labels do not match",
      deployment({ selector: { matchLabels: { pool: "b" } } }),
      [
        "spec.selector",
        "selector.matchLabels must also be set, with the same values, in template.metadata.labels",
      ],
    ],
    [
      "a MachineSet selector the template labels do not match",
      machineSet({ selector: { matchLabels: { other: "x" } } }),
      ["spec.selector", "selector.matchLabels must also be set"],
    ],
    [
      "a drain timeout that is not a duration",
      machine({ drainTimeout: "5 minutes" }),
      ["spec.drainTimeout", "must be a duration such as 20m, 1h30m or 90s"],
    ],
    [
      "a template health timeout that is not a duration",
      deployment({ template: template({ healthTimeout: "10" }) }),
      ["spec.template.spec.healthTimeout", "must be a duration"],
    ],
    [
      "a creation timeout that is not a duration",
      machineSet({ template: template({ creationTimeout: "1d" }) }),
      ["spec.template.spec.creationTimeout", "must be a duration"],
    ],
    [
      "a class kind other than MachineClass",
      machine({ class: { kind: "Pod", name: "x" } }),
      ["spec.class.kind", "must be MachineClass"],
    ],
    [
      "a class without name",
      machine({ class: { kind: "MachineClass" } }),
      ["spec.class.name", "Required value"],
    ],
    ["a Machine without spec", { kind: "Machine" }, ["spec", "Required value"]],
    [
      "a MachineClass without providerSpec",
      { kind: "MachineClass", provider: "AWS" },
      ["providerSpec", "Required value"],
    ],
    [
      "a MachineClass nodeTemplate whose capacity lacks gpu",
      machineClass({
        nodeTemplate: {
          capacity: { cpu: "2", memory: "8Gi" },
          instanceType: "m5.large",
          region: "r",
          zone: "z",
        },
      }),
      ["nodeTemplate.capacity", "capacity must name cpu, gpu and memory"],
    ],
    [
      "a negative maxEvictRetries",
      machine({ maxEvictRetries: -5 }),
      ["spec.maxEvictRetries", "should be greater than or equal to 0"],
    ],
  ])("%s", async (_, obj, fragments) => {
    const message = await rejection(obj);
    for (const fragment of fragments) expect(message).toContain(fragment);
  });
});

describe("admission accepts and defaults valid objects", () => {
  it("defaults the strategy to RollingUpdate", async () => {
    const created = await create<{ spec: { strategy?: { type?: string } } }>(deployment({}));
    expect(created.spec.strategy).toEqual({ type: "RollingUpdate" });
  });

  it("keeps an explicit strategy type and accepts percentages", async () => {
    const strategy = { type: "RollingUpdate", rollingUpdate: { maxSurge: "25%", maxUnavailable: 0 } };
    const created = await create<{ spec: { strategy?: unknown } }>(deployment({ strategy }));
    expect(created.spec.strategy).toEqual(strategy);
  });

  it.each(["20m0s", "1h30m", "90s", "0", "1.5h", "300ms"])("accepts the duration %s", async (d) => {
    await create(machine({ drainTimeout: d, healthTimeout: d, creationTimeout: d }));
  });

  it("accepts the provider-specific class kinds of older releases", async () => {
    await create(machine({ class: { kind: "AWSMachineClass", name: "test-aws" } }));
  });

  it("accepts a complete MachineClass", async () => {
    await create(
      machineClass({
        provider: "AWS",
        secretRef: { name: "s", namespace: ns },
        nodeTemplate: {
          capacity: { cpu: "2", gpu: "0", memory: "8Gi" },
          instanceType: "m5.large",
          region: "eu-west-1",
          zone: "eu-west-1a",
        },
      }),
    );
  });
});

describe("scale subresource", () => {
  it("scales a MachineDeployment and reports the selector for autoscalers", async () => {
    const created = await create<{ metadata: { name: string } }>(deployment({ replicas: 2 }));
    const base = `/apis/${GROUP}/${VERSION}/namespaces/${ns}/machinedeployments/${created.metadata.name}`;
    await rawRequest(kc, {
      method: "PATCH",
      path: `${base}/status`,
      body: { status: { replicas: 2, labelSelector: "pool=a" } },
      contentType: "application/merge-patch+json",
    });
    await rawRequest(kc, {
      method: "PATCH",
      path: `${base}/scale`,
      body: { spec: { replicas: 7 } },
      contentType: "application/merge-patch+json",
    });
    const scale = await rawRequest<{
      spec: { replicas: number };
      status: { replicas: number; selector?: string };
    }>(kc, { method: "GET", path: `${base}/scale` });
    expect(scale.spec.replicas).toBe(7);
    expect(scale.status).toEqual({ replicas: 2, selector: "pool=a" });
  });
});
