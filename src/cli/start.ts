import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { destination } from "pino";
import { CloudClient } from "../sim/cloud/client.ts";
import { NodeSimulator } from "../sim/node/nodesim.ts";
import { installCrds } from "./install-crds.ts";
import { addControllers } from "../controllers/index.ts";
import type { DriverRegistry } from "../driver/registry.ts";
import { cacheDir } from "../localplane/cache.ts";
import { kubeletStateIn } from "../sim/node/kubelet-state.ts";
import { LocalPlane } from "../localplane/localplane.ts";
import { nodeApi } from "../sim/node/node-api.ts";
import { stderrProgress } from "../localplane/progress.ts";
import { startVirtualCloud } from "../sim/cloud/process.ts";
import { KubeClient } from "../runtime/client/client.ts";
import type { Manager } from "../runtime/manager/manager.ts";
import { boolFlag, type FlagSpec, type FlagValues, intFlag, type ParsedFlags, parseFlags } from "./flags.ts";
import { AUTOSCALER_FLAGS, AUTOSCALER_RULES, autoscalerFromFlags } from "./autoscaler.ts";
import { startLiveView } from "./live-view.ts";
import {
  CONTROLLER_FLAGS,
  driverRegistryFromFlags,
  MACHINE_CONTROLLER_RULES,
  managerFromFlags,
  safetyFromFlags,
} from "./machine-controller.ts";
import {
  COMMON_INACTIVE_FLAGS,
  LOG_FLAGS,
  MC_INACTIVE_FLAGS,
  MC_SAFETY_FLAGS,
  MCM_SAFETY_FLAGS,
} from "./mcm-flags.ts";
import { ensureSample, SAMPLE } from "./sample.ts";

/** Flags of `sprout start`: the machine controller's, plus the MachineSet/MachineDeployment and embedded ones. */
export const START_FLAGS: readonly FlagSpec[] = [
  ...CONTROLLER_FLAGS.map((f) =>
    f.name === "control-kubeconfig"
      ? {
          ...f,
          help: "kubeconfig of the cluster holding the Machine objects; when empty, sprout runs its embedded default (a local seed, the virtual cloud and the node simulator)",
        }
      : f,
  ),
  {
    name: "set-concurrent-syncs",
    kind: "int",
    default: "10",
    help: "workers of the MachineSet and MachineDeployment controllers",
    range: { min: 1 },
  },
  {
    name: "autoscaler-scaledown-annotation-during-rollout",
    kind: "bool",
    default: "true",
    help: "mark the Nodes of a rolling deployment with cluster-autoscaler.kubernetes.io/scale-down-disabled",
  },
  ...AUTOSCALER_FLAGS,
  {
    name: "dir",
    kind: "string",
    default: "",
    help: "embedded default: folder of the local seed's data; `<cache>/seed` when empty",
  },
  {
    name: "sample",
    kind: "bool",
    default: "true",
    help: "embedded default: create the sample MachineClass and MachineDeployment (3 machines) when missing",
  },
  { name: "view", kind: "bool", default: "true", help: "show a live view of the machines and their phases" },
  ...MCM_SAFETY_FLAGS,
  ...MC_SAFETY_FLAGS,
  ...COMMON_INACTIVE_FLAGS,
  ...MC_INACTIVE_FLAGS,
  ...LOG_FLAGS,
];

const bounded = (p: Promise<unknown>, ms: number): Promise<unknown> =>
  Promise.race([p.catch(() => undefined), sleep(ms)]);

/**
 * The first SIGINT or SIGTERM. Ctrl-C reaches this process twice (from the terminal and from npm,
 * which passes signals on): the listeners stay, so a repeated signal while stopping is a no-op
 * rather than the default action that would kill the process half-way.
 */
const untilSignal = (): Promise<NodeJS.Signals> =>
  new Promise((resolve) => {
    process.on("SIGINT", resolve);
    process.on("SIGTERM", resolve);
  });

function run(
  v: FlagValues,
  manager: Manager,
  target: KubeClient | undefined,
  registry: DriverRegistry,
  config: ReturnType<typeof managerFromFlags>["config"],
) {
  return addControllers({
    manager,
    target,
    registry,
    config,
    setWorkers: intFlag(v, "set-concurrent-syncs"),
    scaleDownAnnotationDuringRollout: boolFlag(v, "autoscaler-scaledown-annotation-during-rollout"),
    safety: safetyFromFlags(v),
  });
}

/**
 * `sprout start`: every controller (machine, MachineSet, MachineDeployment). Without
 * --control-kubeconfig it first brings up the embedded default: a local seed, the virtual cloud,
 * the node simulator, the CRDs and a sample MachineDeployment, and shows a live view until Ctrl-C.
 */
export async function runStart(args: string[]): Promise<number> {
  const flags = parseFlags(START_FLAGS, args, [...MACHINE_CONTROLLER_RULES, ...AUTOSCALER_RULES]);
  const v = flags.values;
  if (v["control-kubeconfig"]) return runAgainstClusters(flags);
  if (v["target-kubeconfig"]) {
    throw new Error(
      "--target-kubeconfig needs --control-kubeconfig (without it sprout runs its embedded default, whose target is its own local seed)",
    );
  }
  return runEmbedded(flags);
}

async function runAgainstClusters(flags: ParsedFlags): Promise<number> {
  const v = flags.values;
  const { manager, target, config } = managerFromFlags(flags, { leaseName: "sprout" });
  const controllers = run(v, manager, target, driverRegistryFromFlags(v, manager), config);
  await manager.start();
  const autoscaler = await autoscalerFromFlags(v, manager, config.namespace);
  const stopView = boolFlag(v, "view")
    ? startLiveView(
        [`sprout: namespace ${config.namespace}`],
        controllers.machineDeployments.deployments,
        controllers.machines.machines,
      )
    : () => undefined;
  await untilSignal();
  stopView();
  await autoscaler?.stop();
  await manager.stop();
  return 0;
}

async function runEmbedded(flags: ParsedFlags): Promise<number> {
  const v = flags.values;
  const dir = v.dir || join(cacheDir(), "seed");
  stderrProgress(`starting the local seed in ${dir}`);
  const plane = await LocalPlane.start({ dir, progress: stderrProgress });
  const cloudDir = join(dir, "virtual-cloud");
  await mkdir(cloudDir, { recursive: true });
  const cloud = await startVirtualCloud(cloudDir);
  stderrProgress(`virtual cloud at ${cloud.endpoint}`);
  const kc = await plane.kubeConfig();
  await installCrds(kc);
  const client = new KubeClient(kc, { qps: 100, burst: 200 });
  // A terminal's Ctrl-C reaches every child process at once, so the simulator may lose the
  // virtual cloud before this process hears of the signal: its errors are shown a second late,
  // and not at all once stopping.
  let stopping = false;
  const report = (line: string): void => {
    setTimeout(() => stopping || stderrProgress(line), 1000).unref();
  };
  const sim = new NodeSimulator({
    cloud: new CloudClient(cloud.endpoint),
    nodes: nodeApi(client),
    bootDelayMs: 2000,
    bootJitterMs: 2000,
    // The seed outlives this process: its nodes keep their certificates for the next start.
    kubeletState: kubeletStateIn(join(dir, "kubelet")),
    onError: (err, what) =>
      report(`node simulator: ${what}: ${err instanceof Error ? err.message : String(err)}`),
  });
  sim.start();
  const namespace = v.namespace ?? "default";
  if (boolFlag(v, "sample")) await ensureSample(client, namespace);
  const logFile = join(dir, "logs", "sprout.log");
  const { manager, target, config } = managerFromFlags(flags, {
    leaseName: "sprout",
    control: kc,
    target: new KubeClient(kc, { qps: 100, burst: 200 }),
    logTo: destination({ dest: logFile, mkdir: true, sync: false }),
    // One process on its own seed: there is nobody to elect against.
    leaderElection: false,
  });
  const registry = driverRegistryFromFlags(v, manager, {
    ...process.env,
    SPROUT_VIRTUAL_CLOUD_ENDPOINT: cloud.endpoint,
  });
  const controllers = run(v, manager, target, registry, config);
  await manager.start();
  const autoscaler = await autoscalerFromFlags(v, manager, config.namespace);
  const k = `kubectl --kubeconfig ${plane.kubeconfigPath} -n ${namespace}`;
  const header = [
    "",
    `  sprout is running: local seed ${plane.server}, virtual cloud ${cloud.endpoint}`,
    `  kubeconfig  ${plane.kubeconfigPath}`,
    `  logs        ${logFile}`,
    `  scale       ${k} scale machinedeployment ${SAMPLE.deployment} --replicas=5`,
    `  watch       ${k} get machines -w`,
    "  stop with Ctrl-C",
    "",
  ];
  const stopView = boolFlag(v, "view")
    ? startLiveView(header, controllers.machineDeployments.deployments, controllers.machines.machines)
    : (process.stdout.write(`${header.join("\n")}\n`), () => undefined);
  await untilSignal();
  stopping = true;
  stopView();
  stderrProgress("stopping: controllers, node simulator, virtual cloud, local seed");
  // A terminal's Ctrl-C reaches the child processes too: every step is bounded, none may hang.
  await bounded(autoscaler?.stop() ?? Promise.resolve(), 5_000);
  await bounded(manager.stop(), 10_000);
  await bounded(sim.stop(), 5_000);
  await cloud.stop();
  await plane.stop();
  stderrProgress("stopped");
  return 0;
}
