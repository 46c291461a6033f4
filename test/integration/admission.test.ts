import { type KubeConfig } from "@kubernetes/client-node";
import { beforeAll, describe, expect, it } from "vitest";
import { API_VERSION, GROUP, VERSION } from "../../src/api/constants.ts";
import { installCrds } from "../../src/cli/install-crds.ts";
import { KubeApiError, rawRequest } from "../../src/runtime/client/raw.ts";
import { adminKubeConfig, testNamespace, uniqueName } from "../env/index.ts";
import {
  deployment,
  machine,
  machineClass,
  machineSet,
  MALFORMED,
  type Obj,
  template,
} from "../env/malformed.ts";

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

describe("admission rejects malformed objects, naming the field and the fix", () => {
  it.each(MALFORMED.map(([what, obj, fragments]) => [what, obj, fragments] as const))(
    "%s",
    async (_, obj, fragments) => {
      const message = await rejection(obj);
      for (const fragment of fragments) expect(message).toContain(fragment);
    },
  );
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

  it.each(["20m0s", "1h30m", "90s", "+5m", "1.5h", "300ms"])("accepts the duration %s", async (d) => {
    await create(machine({ drainTimeout: d, healthTimeout: d, creationTimeout: d, inPlaceUpdateTimeout: d }));
  });

  it("accepts zero where zero means something: drain forced at once", async () => {
    await create(machine({ drainTimeout: "0", machinePreserveTimeout: "0s" }));
  });

  it("accepts selectors of every operator that select the template", async () => {
    const labels = { pool: "a", "example.com/zone": "z1", tier: "" };
    const matchExpressions = [
      { key: "example.com/zone", operator: "In", values: ["z1", "z2"] },
      { key: "pool", operator: "NotIn", values: ["b"] },
      { key: "absent", operator: "NotIn", values: ["x"] },
      { key: "tier", operator: "Exists" },
      { key: "gpu", operator: "DoesNotExist" },
    ];
    for (const build of [deployment, machineSet]) {
      await create(
        build({ selector: { matchLabels: { pool: "a" }, matchExpressions }, template: template({}, labels) }),
      );
      await create(build({ selector: { matchExpressions }, template: template({}, labels) }));
    }
  });

  it("accepts node templates with qualified label keys, annotations and taints of every effect", async () => {
    const nodeTemplate = {
      metadata: {
        labels: { "node.kubernetes.io/role": "worker", "a.b-c.example.com/x_y.z": "V-1.2_3" },
        annotations: { "example.com/note": "any value at all, with spaces: fine", plain: "" },
      },
      spec: {
        taints: [
          { key: "dedicated", value: "gpu", effect: "NoSchedule" },
          { key: "example.com/soft", effect: "PreferNoSchedule" },
          { key: "example.com/evict", value: "", effect: "NoExecute" },
        ],
      },
    };
    await create(deployment({ template: template({ nodeTemplate }) }));
    await create(machine({ nodeTemplate }));
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
