import type { DriverRegistry } from "../driver/registry.ts";
import type { KubeClient } from "../runtime/client/client.ts";
import type { Manager } from "../runtime/manager/manager.ts";
import type { MachineControllerConfig } from "./machine/config.ts";
import { MachineController } from "./machine/controller.ts";
import { MachineClassController } from "./machineclass/controller.ts";
import { MachineDeploymentController } from "./machinedeployment/controller.ts";
import { MachineSetController } from "./machineset/controller.ts";

export interface ControllerSet {
  readonly machines: MachineController;
  readonly machineClasses: MachineClassController;
  readonly machineSets: MachineSetController;
  readonly machineDeployments: MachineDeploymentController;
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
}

/** Every controller of sprout on one manager, for one control namespace. */
export function addControllers(opts: ControllerOptions): ControllerSet {
  const { manager, target, config } = opts;
  const namespace = config.namespace;
  const workers = opts.setWorkers ?? 10;
  return {
    machines: new MachineController({ manager, target, registry: opts.registry, config }),
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
