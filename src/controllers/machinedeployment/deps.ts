import { type NodeObject } from "../../api/core.ts";
import type { Informer } from "../../runtime/cache/informer.ts";
import type { Clock } from "../../runtime/clock.ts";
import type { KubeClient } from "../../runtime/client/client.ts";
import type { EventRecorder } from "../../runtime/events/recorder.ts";

import type { DeploymentObject, MachineObject, MachineSetObject as SetObject } from "../objects.ts";

export type { DeploymentObject, MachineObject, SetObject };

/** What the MachineDeployment controller's phases need. */
export interface DeployDeps {
  readonly client: KubeClient;
  /** Target cluster (Nodes); undefined without one. */
  readonly target: KubeClient | undefined;
  readonly nodes: Informer<NodeObject> | undefined;
  readonly machines: Informer<MachineObject>;
  readonly events: EventRecorder;
  readonly clock: Clock;
  /** --autoscaler-scaledown-annotation-during-rollout. */
  readonly scaleDownAnnotationDuringRollout: boolean;
}

/** A deployment's sets this sync: the one with the current template (if any) and the others. */
export interface SetsOf {
  readonly newSet: SetObject | undefined;
  readonly oldSets: SetObject[];
}
