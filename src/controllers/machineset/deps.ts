import type { Machine } from "../../api/v1alpha1/machine.ts";
import type { MachineSet } from "../../api/v1alpha1/machineset.ts";
import type { Clock } from "../../runtime/clock.ts";
import type { KubeClient, KubeObject } from "../../runtime/client/client.ts";
import type { EventRecorder } from "../../runtime/events/recorder.ts";

export type MachineObject = Machine & KubeObject;
export type MachineSetObject = MachineSet & KubeObject;

/** What the MachineSet controller's phases need. */
export interface SetDeps {
  readonly client: KubeClient;
  readonly events: EventRecorder;
  readonly clock: Clock;
}
