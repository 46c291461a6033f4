import { type Static, Type } from "@sinclair/typebox";
import { DELETION_STEPS, MACHINE_CONDITION_TYPES } from "../constants.ts";
import { Int64, OpenStringEnum, StringEnum, Time } from "../schema.ts";
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

/** metav1.Condition. */
const MachineCondition = Type.Object({
  type: OpenStringEnum(MACHINE_CONDITION_TYPES, { description: "Type of the condition." }),
  status: StringEnum(["True", "False", "Unknown"] as const, { description: "Status of the condition." }),
  reason: Type.String({ description: "CamelCase reason of the last transition, e.g. ResourceExhausted." }),
  message: Type.Optional(Type.String({ description: "Human-readable details." })),
  lastTransitionTime: Time("Last time the status changed."),
  observedGeneration: Type.Optional(
    Int64({ description: "The Machine's generation the condition was set for." }),
  ),
});

export const MachineStatus = Type.Object(
  {
    addresses: Type.Optional(NodeAddresses),
    conditions: Type.Optional(
      Type.Array(NodeCondition, { description: "The conditions of the machine's Node, as last observed." }),
    ),
    machineConditions: Type.Optional(
      Type.Array(MachineCondition, {
        description:
          "Standard conditions of the machine: VMCreated, NodeJoined, Healthy and, while it is deleted, Drained.",
        "x-kubernetes-list-type": "map",
        "x-kubernetes-list-map-keys": ["type"],
      }),
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
