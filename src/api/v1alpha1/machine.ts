import { type Static, Type } from "@sinclair/typebox";
import { DELETION_STEPS } from "../constants.ts";
import { StringEnum, Time } from "../schema.ts";
import { objectHeader } from "./object.ts";
import { CurrentStatus, LastOperation, MachineSpec, NodeAddresses } from "./shared.ts";

/** corev1.NodeCondition as copied from the Machine's Node. */
const NodeCondition = Type.Object({
  lastHeartbeatTime: Type.Optional(Time("Last time the condition was probed.")),
  lastTransitionTime: Type.Optional(Time("Last time the condition changed status.")),
  message: Type.Optional(Type.String({ description: "Details of the last transition." })),
  reason: Type.Optional(Type.String({ description: "Reason of the last transition." })),
  status: Type.String({ description: "True, False or Unknown." }),
  type: Type.String({ description: "Type of the node condition, e.g. Ready." }),
});

export const MachineStatus = Type.Object(
  {
    addresses: Type.Optional(NodeAddresses),
    conditions: Type.Optional(
      Type.Array(NodeCondition, { description: "The conditions of the machine's Node, as last observed." }),
    ),
    lastOperation: Type.Optional(LastOperation),
    currentStatus: Type.Optional(CurrentStatus),
    deletionStep: Type.Optional(
      StringEnum(DELETION_STEPS, {
        description: "The step a deletion has reached; a restarted controller resumes here.",
      }),
    ),
    lastKnownState: Type.Optional(
      Type.String({
        description: "Opaque state returned by the driver and handed back to it on later calls.",
      }),
    ),
  },
  { description: "Observed state of the machine." },
);
export type MachineStatus = Static<typeof MachineStatus>;

export const MachineSchema = Type.Object(
  {
    ...objectHeader,
    spec: MachineSpec,
    status: Type.Optional(MachineStatus),
  },
  { description: "Machine is one VM (or bare-metal host) that joins the target cluster as a Node." },
);
export type Machine = Static<typeof MachineSchema>;
