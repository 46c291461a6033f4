import type { Clock } from "../../runtime/clock.ts";
import type { KubeClient } from "../../runtime/client/client.ts";
import type { EventRecorder } from "../../runtime/events/recorder.ts";

import type { MachineObject, MachineSetObject } from "../objects.ts";

export type { MachineObject, MachineSetObject };

/** What the MachineSet controller's phases need. */
export interface SetDeps {
  readonly client: KubeClient;
  readonly events: EventRecorder;
  readonly clock: Clock;
}
