import { API_VERSION } from "../api/constants.ts";
import { MachineResources } from "../api/resources.ts";
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
 * The embedded default's sample: a user-data Secret, a MachineClass of the virtual cloud and a
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
    stringData: {
      userData: "#cloud-config\nhostname: <<MACHINE_NAME>>\n# bootstrap token: <<BOOTSTRAP_TOKEN>>\n",
    },
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
