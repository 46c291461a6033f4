import type { DriverRegistry } from "../driver/registry.ts";
import type { KubeClient } from "../runtime/client/client.ts";
import type { Manager } from "../runtime/manager/manager.ts";
import type { MachineControllerConfig } from "./machine/config.ts";
import { MachineController } from "./machine/controller.ts";
import { MachineClassController } from "./machineclass/controller.ts";
import { MachineDeploymentController } from "./machinedeployment/controller.ts";
import { MachineSetController } from "./machineset/controller.ts";
import { DEFAULT_SAFETY_CONFIG, type SafetyConfig } from "./safety/config.ts";
import { ApiServerCheck } from "./safety/apiservers.ts";
import { OrphanCollector } from "./safety/orphans.ts";
import { OvershootGuard } from "./safety/overshoot.ts";

export interface ControllerSet {
  readonly machines: MachineController;
  readonly machineClasses: MachineClassController;
  readonly machineSets: MachineSetController;
  readonly machineDeployments: MachineDeploymentController;
  /** The orphan VM collector; undefined when its period is 0. */
  readonly orphans: OrphanCollector | undefined;
  /** The apiserver-unreachable freeze; undefined when its period is 0. */
  readonly apiservers: ApiServerCheck | undefined;
  /** The overshooting guard; undefined when its period is 0. */
  readonly overshoot: OvershootGuard | undefined;
}

export interface ControllerOptions {
  readonly manager: Manager;
  /** Client of the target (shoot) cluster; undefined for --target-kubeconfig=none. */
  readonly target: KubeClient | undefined;
  readonly registry: DriverRegistry;
  readonly config: MachineControllerConfig;
  /** Workers of the MachineSet and MachineDeployment controllers. Default 10 (MCM's --concurrent-syncs). */
  readonly setWorkers?: number;
  /** --autoscaler-scaledown-annotation-during-rollout. Default true. */
  readonly scaleDownAnnotationDuringRollout?: boolean;
  /** The safety controller's settings; MCM's defaults for those not given. */
  readonly safety?: Partial<SafetyConfig>;
}

/** Every controller of sprout on one manager, for one control namespace. */
export function addControllers(opts: ControllerOptions): ControllerSet {
  const { manager, target, config } = opts;
  const namespace = config.namespace;
  const workers = opts.setWorkers ?? 10;
  const machines = new MachineController({ manager, target, registry: opts.registry, config });
  return {
    machines,
    orphans: orphanCollector(manager, namespace, opts.registry, machines, opts.safety),
    apiservers: apiServerCheck(manager, target, machines, namespace, opts.safety),
    overshoot: overshootGuard(manager, namespace, opts.safety),
    machineClasses: new MachineClassController({ manager, namespace }),
    // One set of retry periods for every controller: MCM's, or the config's shorter ones.
    machineSets: new MachineSetController({ manager, namespace, workers, retry: config }),
    machineDeployments: new MachineDeploymentController({
      manager,
      namespace,
      target,
      workers,
      retry: config,
      scaleDownAnnotationDuringRollout: opts.scaleDownAnnotationDuringRollout ?? true,
    }),
  };
}

/** The orphan VM collector beside a machine controller (MCM runs it in the same process), if its period is not 0. */
export function orphanCollector(
  manager: Manager,
  namespace: string,
  registry: DriverRegistry,
  machines: MachineController,
  safety: Partial<SafetyConfig> = {},
): OrphanCollector | undefined {
  const config = { ...DEFAULT_SAFETY_CONFIG, ...safety };
  if (config.orphanPeriodMs <= 0) return undefined;
  return new OrphanCollector({ manager, namespace, registry, config, busy: (key) => machines.busy(key) });
}

/** The overshooting guard beside the MachineSet controller (MCM runs it in that process), if its period is not 0. */
export function overshootGuard(
  manager: Manager,
  namespace: string,
  safety: Partial<SafetyConfig> = {},
): OvershootGuard | undefined {
  const config = { ...DEFAULT_SAFETY_CONFIG, ...safety };
  if (config.overshootPeriodMs <= 0) return undefined;
  return new OvershootGuard({ manager, namespace, config });
}

/**
 * The apiserver-unreachable freeze of a machine controller (MCM runs it in that process), if its
 * period is not 0: the controller holds still while the check says frozen, and thaws after.
 */
export function apiServerCheck(
  manager: Manager,
  target: KubeClient | undefined,
  machines: MachineController,
  namespace: string,
  safety: Partial<SafetyConfig> = {},
): ApiServerCheck | undefined {
  const config = { ...DEFAULT_SAFETY_CONFIG, ...safety };
  if (config.statusCheckPeriodMs <= 0) return undefined;
  const control = manager.client;
  return new ApiServerCheck({
    manager,
    control,
    target,
    namespace,
    config,
    onFreeze: () => machines.freeze(),
    onThaw: () => machines.thaw(),
  });
}
