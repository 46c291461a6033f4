import type { NodeObject } from "../../api/core.ts";

export type { NodeObject } from "../../api/core.ts";
import type { Machine } from "../../api/v1alpha1/machine.ts";
import type { Clock } from "../../runtime/clock.ts";
import type { Informer } from "../../runtime/cache/informer.ts";
import type { KubeClient } from "../../runtime/client/client.ts";
import type { EventRecorder } from "../../runtime/events/recorder.ts";
import type { MachineControllerConfig } from "./config.ts";

/** What the machine controller's flows need from around them. */
export interface FlowDeps {
  /** Control cluster (Machines, MachineClasses, Secrets). */
  readonly client: KubeClient;
  /** Target cluster (Nodes, Pods, bootstrap tokens); undefined with --target-kubeconfig=none. */
  readonly target: KubeClient | undefined;
  readonly nodes: Informer<NodeObject> | undefined;
  readonly events: EventRecorder;
  readonly config: MachineControllerConfig;
  readonly clock: Clock;
  /** Whether an unhealthy machine may be marked Failed now (its deployment's maxReplacements). */
  readonly replacementPermit?: (machine: Machine) => { allowed: boolean; message: string };
}

/** What a create or health pass decided: the machine as it should be written, and when to look again. */
export interface FlowOutcome {
  readonly draft: Machine;
  readonly requeueAfter?: number;
}
