import { MachineDeploymentController } from "../controllers/machinedeployment/controller.ts";
import { MachineSetController } from "../controllers/machineset/controller.ts";
import { overshootGuard } from "../controllers/index.ts";
import { boolFlag, type FlagSpec, intFlag, parseFlags } from "./flags.ts";
import { CONTROLLER_FLAGS, managerFromFlags, safetyFromFlags } from "./machine-controller.ts";
import { COMMON_INACTIVE_FLAGS, COMMON_RULES, LOG_FLAGS, MCM_SAFETY_FLAGS } from "./mcm-flags.ts";

/** The flags of MCM's own process that the machine controller's list shares, by name. */
const SHARED = new Set([
  "control-kubeconfig",
  "target-kubeconfig",
  "namespace",
  "kube-api-qps",
  "kube-api-burst",
  "address",
  "leader-elect",
  "leader-elect-lease-duration",
  "leader-elect-renew-deadline",
  "leader-elect-retry-period",
  "log-level",
]);

/** Lease of MCM's MachineSet/MachineDeployment process, as in MCM. */
const LEASE = "machine-controller-manager";

/**
 * Flags of `sprout machine-controller-manager`: every flag of MCM's `machine-controller-manager`
 * process, with its defaults (port 10258, 10 workers).
 */
export const MACHINE_CONTROLLER_MANAGER_FLAGS: readonly FlagSpec[] = [
  ...CONTROLLER_FLAGS.filter((f) => SHARED.has(f.name)).map((f) =>
    f.name === "leader-elect"
      ? { ...f, help: `take the Lease \`${LEASE}\` in --namespace before reconciling` }
      : f,
  ),
  {
    name: "concurrent-syncs",
    kind: "int",
    default: "10",
    help: "workers of the MachineSet and MachineDeployment controllers",
    range: { min: 1 },
  },
  {
    name: "port",
    kind: "int",
    default: "10258",
    help: "port of the /healthz, /readyz and /metrics server; 0 picks a free one",
    range: { min: 0, max: 65535 },
  },
  {
    name: "autoscaler-scaledown-annotation-during-rollout",
    kind: "bool",
    default: "true",
    help: "mark the Nodes of a rolling deployment with cluster-autoscaler.kubernetes.io/scale-down-disabled",
  },
  ...MCM_SAFETY_FLAGS,
  ...COMMON_INACTIVE_FLAGS,
  ...LOG_FLAGS,
];

/**
 * `sprout machine-controller-manager`: the MachineSet and MachineDeployment controllers, as MCM's
 * process of that name, beside a `sprout machine-controller` (the provider sidecar) in the same
 * namespace. Runs until SIGTERM/SIGINT.
 */
export async function runMachineControllerManager(args: string[]): Promise<number> {
  const flags = parseFlags(MACHINE_CONTROLLER_MANAGER_FLAGS, args, COMMON_RULES);
  const v = flags.values;
  const { manager, target, config } = managerFromFlags(flags, { leaseName: LEASE });
  const { namespace } = config;
  const workers = intFlag(v, "concurrent-syncs");
  new MachineSetController({ manager, namespace, workers });
  new MachineDeploymentController({
    manager,
    namespace,
    target,
    workers,
    scaleDownAnnotationDuringRollout: boolFlag(v, "autoscaler-scaledown-annotation-during-rollout"),
  });
  overshootGuard(manager, namespace, safetyFromFlags(v));
  manager.stopOnSignals();
  await manager.start();
  manager.logger.info({ namespace, port: manager.httpPort }, "machine controller manager running");
  return new Promise<number>(() => undefined);
}
