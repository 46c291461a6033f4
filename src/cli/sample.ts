import { readFile } from "node:fs/promises";
import { API_VERSION, SecretKeys } from "../api/constants.ts";
import { MachineResources } from "../api/resources.ts";
import { BOOTSTRAP_API_VERSION, validateWorkerPool, WORKER_POOL_KIND } from "../bootstrap/model.ts";
import { renderWorkerUserData } from "../bootstrap/render.ts";
import { loadTemplates } from "../bootstrap/templates.ts";
import { isConflict, type KubeClient, type KubeObject } from "../runtime/client/client.ts";
import { Resources } from "../runtime/client/resources.ts";

/** Names of the objects the embedded default creates. */
export const SAMPLE = {
  secret: "worker-userdata",
  machineClass: "virtual-small",
  deployment: "workers",
} as const;

async function createIfMissing(
  client: KubeClient,
  ref: Parameters<KubeClient["create"]>[0],
  obj: KubeObject,
) {
  try {
    await client.create(ref, obj);
  } catch (err) {
    if (!isConflict(err)) throw err;
  }
}

/**
 * The sample pool's user data: sprout's cloud-config for kubelets joining the cluster the client
 * talks to (its apiserver and CA), with <<BOOTSTRAP_TOKEN>> for the machine controller to fill.
 */
export async function sampleUserData(client: KubeClient): Promise<string> {
  const cluster = client.kubeConfig.getCurrentCluster();
  const caPem = cluster?.caData
    ? Buffer.from(cluster.caData, "base64").toString()
    : cluster?.caFile
      ? await readFile(cluster.caFile, "utf8")
      : undefined;
  if (!cluster || !caPem) throw new Error("the seed's kubeconfig names no cluster CA");
  const pool = validateWorkerPool({
    apiVersion: BOOTSTRAP_API_VERSION,
    kind: WORKER_POOL_KIND,
    name: SAMPLE.deployment,
    cluster: { server: cluster.server, caPem },
  });
  return renderWorkerUserData(pool, "cloud-config", await loadTemplates());
}

/**
 * The embedded default's sample: a user-data Secret (the sample pool's cloud-config), a MachineClass of the virtual cloud and a
 * MachineDeployment of 3 machines. Existing objects are left as they are (a scaled deployment
 * stays scaled across restarts).
 */
export async function ensureSample(client: KubeClient, namespace: string, replicas = 3): Promise<void> {
  await createIfMissing(client, Resources.namespaces, {
    apiVersion: "v1",
    kind: "Namespace",
    metadata: { name: namespace },
  });
  await createIfMissing(client, Resources.secrets, {
    apiVersion: "v1",
    kind: "Secret",
    metadata: { name: SAMPLE.secret, namespace },
    stringData: { [SecretKeys.userData]: await sampleUserData(client) },
  });
  await createIfMissing(client, MachineResources.machineClasses, {
    apiVersion: API_VERSION,
    kind: "MachineClass",
    metadata: { name: SAMPLE.machineClass, namespace },
    provider: "virtual",
    providerSpec: { machineType: "small", zone: "zone-a" },
    secretRef: { name: SAMPLE.secret, namespace },
    nodeTemplate: {
      capacity: { cpu: "2", gpu: "0", memory: "4Gi" },
      instanceType: "small",
      region: "local",
      zone: "zone-a",
    },
  });
  await createIfMissing(client, MachineResources.machineDeployments, {
    apiVersion: API_VERSION,
    kind: "MachineDeployment",
    metadata: { name: SAMPLE.deployment, namespace },
    spec: {
      replicas,
      minReadySeconds: 5,
      selector: { matchLabels: { name: SAMPLE.deployment } },
      strategy: { type: "RollingUpdate", rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
      template: {
        metadata: { labels: { name: SAMPLE.deployment } },
        spec: {
          class: { kind: "MachineClass", name: SAMPLE.machineClass },
          nodeTemplate: { metadata: { labels: { "worker.gardener.cloud/pool": SAMPLE.deployment } } },
        },
      },
    },
  });
}
