import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CloudClient } from "../../src/sim/cloud/client.ts";
import { NodeSimulator, type NodeSimulatorOptions } from "../../src/sim/node/nodesim.ts";
import {
  defaultMachineControllerConfig,
  type MachineControllerConfig,
} from "../../src/controllers/machine/config.ts";
import type { MachineController } from "../../src/controllers/machine/controller.ts";
import { addControllers, type ControllerSet } from "../../src/controllers/index.ts";
import type { SafetyConfig } from "../../src/controllers/safety/config.ts";
import { installCrds } from "../../src/cli/install-crds.ts";
import { MachineResources } from "../../src/api/resources.ts";
import { DriverRegistry } from "../../src/driver/registry.ts";
import { KubeClient } from "../../src/runtime/client/client.ts";
import { Resources } from "../../src/runtime/client/resources.ts";
import { Manager } from "../../src/runtime/manager/manager.ts";
import { adminKubeConfig, eventually } from "./index.ts";
import { nodeApi } from "../../src/sim/node/node-api.ts";
import { startVirtualCloud, type VirtualCloudProcess } from "../../src/sim/cloud/process.ts";
import { workerUserData } from "./worker-pool.ts";

/** The machine controller's settings in tests: MCM's defaults with short retries. */
export function testMachineControllerConfig(namespace: string): MachineControllerConfig {
  return {
    ...defaultMachineControllerConfig(namespace),
    concurrentSyncs: 5,
    shortRetryMs: 500,
    mediumRetryMs: 2000,
    longRetryMs: 10_000,
    pendingRecheckMs: 1000,
  };
}

/** A machine controller on the shared control plane (control = target), the virtual cloud and the node simulator. */
export interface MachineRig {
  readonly client: KubeClient;
  readonly cloud: CloudClient;
  readonly sim: NodeSimulator;
  readonly manager: Manager;
  readonly controller: MachineController;
  readonly controllers: ControllerSet;
  stop(): Promise<void>;
}

export async function startMachineRig(
  namespace: string,
  config: Partial<MachineControllerConfig> = {},
  opts: {
    targetNone?: boolean;
    /** The controllers' client of the target cluster (e.g. through a proxy); the shared apiserver by default. */
    target?: KubeClient;
    sim?: Partial<NodeSimulatorOptions>;
    safety?: Partial<SafetyConfig>;
  } = {},
): Promise<MachineRig> {
  const dir = await mkdtemp(join(tmpdir(), "sprout-rig-"));
  const cloudProcess: VirtualCloudProcess = await startVirtualCloud(dir);
  const kc = await adminKubeConfig();
  await installCrds(kc);
  const client = new KubeClient(kc, { qps: 200, burst: 200 });
  const cloud = new CloudClient(cloudProcess.endpoint);
  const sim = new NodeSimulator({
    cloud,
    nodes: nodeApi(client),
    bootDelayMs: 500,
    leaseRenewMs: 5000,
    onError: (err, what) => process.stderr.write(`node simulator: ${what}: ${String(err)}\n`),
    ...opts.sim,
  });
  sim.start();
  const manager = new Manager({ kubeConfig: kc, client: { qps: 200, burst: 200 } });
  const controllers = addControllers({
    manager,
    target: opts.targetNone ? undefined : (opts.target ?? new KubeClient(kc, { qps: 200, burst: 200 })),
    registry: new DriverRegistry({
      context: { env: { SPROUT_VIRTUAL_CLOUD_ENDPOINT: cloudProcess.endpoint } },
    }),
    config: { ...testMachineControllerConfig(namespace), ...config },
    setWorkers: 5,
    ...(opts.safety ? { safety: opts.safety } : {}),
  });
  await manager.start();
  return {
    client,
    cloud,
    sim,
    manager,
    controller: controllers.machines,
    controllers,
    async stop() {
      await manager.stop();
      await sim.stop();
      await cloudProcess.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/**
 * A Secret "worker" with the given user data (by default sprout's cloud-config for a pool joining
 * the test cluster) and a MachineClass of the virtual provider using it.
 */
export async function createWorkerClass(
  client: KubeClient,
  namespace: string,
  opts: { name?: string; userData?: string; providerSpec?: Record<string, unknown> } = {},
): Promise<void> {
  await client.create(Resources.secrets, {
    apiVersion: "v1",
    kind: "Secret",
    metadata: { name: "worker", namespace },
    stringData: { userData: opts.userData ?? (await workerUserData()) },
  });
  await createVirtualClass(
    client,
    namespace,
    opts.name ?? "small",
    { secretRef: "worker" },
    opts.providerSpec,
  );
}

/** A MachineClass of the virtual provider referring to Secrets by name (they need not exist). */
export async function createVirtualClass(
  client: KubeClient,
  namespace: string,
  name: string,
  secrets: { secretRef: string; credentialsSecretRef?: string },
  providerSpec: Record<string, unknown> = { machineType: "small" },
): Promise<void> {
  await client.create(MachineResources.machineClasses, {
    apiVersion: "machine.sapcloud.io/v1alpha1",
    kind: "MachineClass",
    metadata: { name, namespace },
    provider: "virtual",
    providerSpec,
    secretRef: { name: secrets.secretRef, namespace },
    ...(secrets.credentialsSecretRef
      ? { credentialsSecretRef: { name: secrets.credentialsSecretRef, namespace } }
      : {}),
  });
}

/** Reconciles of the rig's controller `name` finished so far (controller_runtime_reconcile_total). */
export async function reconcilesOf(rig: MachineRig, name: string): Promise<number> {
  const { values } = await rig.manager.metrics.reconcileTotal.get();
  return values.filter((v) => v.labels.controller === name).reduce((n, v) => n + v.value, 0);
}

/**
 * Waits until the rig's controller `name` has finished two more reconciles than when called. A key
 * is never handled by two workers at once, so with one object in that controller's queue the second
 * one began after the call and saw all that had happened by then: a fence for "the controller kept
 * looking, and nothing changed".
 */
export async function reconciledAgain(rig: MachineRig, name: string, timeoutMs = 30_000): Promise<void> {
  const before = await reconcilesOf(rig, name);
  await eventually(
    async () => {
      if ((await reconcilesOf(rig, name)) < before + 2) throw new Error(`${name} has not reconciled again`);
    },
    { timeoutMs },
  );
}
