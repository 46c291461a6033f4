import { API_VERSION } from "../../src/api/constants.ts";
import { MachineResources } from "../../src/api/resources.ts";
import type { Machine } from "../../src/api/v1alpha1/machine.ts";
import type { MachineDeployment } from "../../src/api/v1alpha1/machinedeployment.ts";
import type { MachineSet } from "../../src/api/v1alpha1/machineset.ts";
import type { KubeClient } from "../../src/runtime/client/client.ts";

type DeploymentSpec = NonNullable<MachineDeployment["spec"]>;

/** A MachineDeployment `name` of machines of class `className`, labelled name=<name> as Gardener does. */
export async function createDeployment(
  client: KubeClient,
  namespace: string,
  name: string,
  opts: { replicas: number; className: string } & Partial<Omit<DeploymentSpec, "template">> & {
      machineSpec?: Record<string, unknown>;
    },
): Promise<MachineDeployment> {
  const { replicas, className, machineSpec, ...rest } = opts;
  return client.create<MachineDeployment>(MachineResources.machineDeployments, {
    apiVersion: API_VERSION,
    kind: "MachineDeployment",
    metadata: { name, namespace },
    spec: {
      replicas,
      selector: { matchLabels: { name } },
      template: {
        metadata: { labels: { name } },
        spec: { class: { kind: "MachineClass", name: className }, ...machineSpec },
      },
      ...rest,
    },
  });
}

export const machinesOf = async (
  client: KubeClient,
  namespace: string,
  deployment: string,
): Promise<Machine[]> =>
  (await client.list<Machine>(MachineResources.machines, namespace, { labelSelector: `name=${deployment}` }))
    .items;

export const setsOf = async (
  client: KubeClient,
  namespace: string,
  deployment: string,
): Promise<MachineSet[]> =>
  (
    await client.list<MachineSet>(MachineResources.machineSets, namespace, {
      labelSelector: `name=${deployment}`,
    })
  ).items;

export const phaseOf = (m: Machine): string => m.status?.currentStatus?.phase ?? "";
export const isLive = (m: Machine): boolean => !m.metadata?.deletionTimestamp;
export const runningLive = (ms: readonly Machine[]): Machine[] =>
  ms.filter((m) => isLive(m) && phaseOf(m) === "Running");

/** Samples `read` every `everyMs` until stopped; returns every value seen. */
export function sample<T>(read: () => Promise<T>, everyMs = 150): { stop(): Promise<T[]> } {
  const seen: T[] = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      seen.push(await read());
      await new Promise((r) => setTimeout(r, everyMs));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return seen;
    },
  };
}

export async function patchDeployment(
  client: KubeClient,
  namespace: string,
  name: string,
  patch: Record<string, unknown>,
): Promise<void> {
  await client.patch(MachineResources.machineDeployments, namespace, name, patch);
}
