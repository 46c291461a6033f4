import { randomBytes } from "node:crypto";
import type { EC2Client } from "@aws-sdk/client-ec2";
import { NodeSimulator } from "../../src/sim/node/nodesim.ts";
import { installCrds } from "../../src/cli/install-crds.ts";
import { MachineResources } from "../../src/api/resources.ts";
import { addControllers } from "../../src/controllers/index.ts";
import type { MachineControllerConfig } from "../../src/controllers/machine/config.ts";
import type { SafetyConfig } from "../../src/controllers/safety/config.ts";
import { DriverRegistry } from "../../src/driver/registry.ts";
import { KubeClient } from "../../src/runtime/client/client.ts";
import { Resources } from "../../src/runtime/client/resources.ts";
import { Manager } from "../../src/runtime/manager/manager.ts";
import { awsProviderSpec, type Ec2World, prepareEc2World, rawEc2, startOwnMoto } from "./aws.ts";
import { Ec2VmFeed } from "./ec2-feed.ts";
import { adminKubeConfig } from "./index.ts";
import { testMachineControllerConfig } from "./machines.ts";
import { nodeApi } from "../../src/sim/node/node-api.ts";

/** Every sprout controller driving EC2 on moto through the AWS plugin, with simulated kubelets. */
export interface AwsRig {
  readonly client: KubeClient;
  /** Straight to moto, for checking what exists there. */
  readonly ec2: EC2Client;
  readonly world: Ec2World;
  /** The cluster tag's name part: kubernetes.io/cluster/<cluster>. */
  readonly cluster: string;
  readonly manager: Manager;
  stop(): Promise<void>;
}

export const AWS_REGION = "eu-west-1";

/**
 * Starts a moto of its own, prepares a VPC, subnet, security group, key pair and instance profile,
 * and runs the machine, MachineSet and MachineDeployment controllers on the shared control plane
 * (control = target) with the AWS plugin loaded by the registry. Simulated kubelets register every
 * running instance of the cluster as a Node, by its private DNS name and providerID.
 */
export async function startAwsRig(
  namespace: string,
  opts: { safety?: Partial<SafetyConfig>; config?: Partial<MachineControllerConfig> } = {},
): Promise<AwsRig> {
  const moto = await startOwnMoto();
  const world = await prepareEc2World(moto.endpoint, AWS_REGION);
  const ec2 = rawEc2(moto.endpoint, AWS_REGION);
  const cluster = `shoot--sprout--${randomBytes(3).toString("hex")}`;
  const kc = await adminKubeConfig();
  await installCrds(kc);
  const client = new KubeClient(kc, { qps: 200, burst: 200 });
  const sim = new NodeSimulator({
    cloud: new Ec2VmFeed(ec2, [{ Name: "tag-key", Values: [`kubernetes.io/cluster/${cluster}`] }]),
    nodes: nodeApi(client),
    bootDelayMs: 500,
    leaseRenewMs: 5000,
    onError: (err, what) => process.stderr.write(`node simulator: ${what}: ${String(err)}\n`),
  });
  sim.start();
  const manager = new Manager({ kubeConfig: kc, client: { qps: 200, burst: 200 } });
  addControllers({
    manager,
    target: new KubeClient(kc, { qps: 200, burst: 200 }),
    registry: new DriverRegistry({ context: { env: { AWS_ENDPOINT_URL_EC2: moto.endpoint } } }),
    config: { ...testMachineControllerConfig(namespace), ...opts.config },
    setWorkers: 5,
    ...(opts.safety ? { safety: opts.safety } : {}),
  });
  await manager.start();
  return {
    client,
    ec2,
    world,
    cluster,
    manager,
    async stop() {
      await manager.stop();
      await sim.stop();
      ec2.destroy();
      await moto.stop();
    },
  };
}

/** A Secret with AWS credentials (Gardener's key names) and user data, and an AWS MachineClass using it. */
export async function createAwsClass(
  rig: Pick<AwsRig, "client" | "world" | "cluster">,
  namespace: string,
  name: string,
  userData: string,
): Promise<void> {
  await rig.client.create(Resources.secrets, {
    apiVersion: "v1",
    kind: "Secret",
    metadata: { name: `${name}-cloud`, namespace },
    stringData: {
      providerAccessKeyId: "AKIASPROUTE2E0000001",
      providerSecretAccessKey: randomBytes(20).toString("hex"),
      userData,
    },
  });
  await rig.client.create(MachineResources.machineClasses, {
    apiVersion: "machine.sapcloud.io/v1alpha1",
    kind: "MachineClass",
    metadata: { name, namespace },
    provider: "AWS",
    providerSpec: awsProviderSpec(rig.world, rig.cluster),
    secretRef: { name: `${name}-cloud`, namespace },
  });
}
