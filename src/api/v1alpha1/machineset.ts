import { type Static, Type } from "@sinclair/typebox";
import { cel, Int32, Int64, OpenStringEnum, Time } from "../schema.ts";
import { LabelSelector } from "../labels.ts";
import { MachineSetConditions } from "../constants.ts";
import { objectHeader } from "./object.ts";
import { ClassSpec, FailedMachines, LastOperation, MachineTemplate, selectorRules } from "./shared.ts";

export const replicasField = (what: string) =>
  Type.Optional(Int32({ minimum: 0, description: `Desired number of ${what}; at least 0.` }));

export const labelSelectorStatus = Type.Optional(
  Type.String({
    description:
      "The selector in its string form, for the scale subresource (kubectl scale, HorizontalPodAutoscaler).",
  }),
);

const MachineSetCondition = Type.Object({
  lastTransitionTime: Type.Optional(Time("Last time the condition changed status.")),
  message: Type.Optional(Type.String({ description: "Details of the last transition." })),
  reason: Type.Optional(Type.String({ description: "Reason of the last transition, e.g. FailedCreate." })),
  status: Type.String({ description: "True, False or Unknown." }),
  type: OpenStringEnum(MachineSetConditions.types, { description: "Type of the condition." }),
});

export const MachineSetSpec = Type.Object(
  {
    replicas: replicasField("machines"),
    selector: Type.Optional(
      LabelSelector(
        "Selects the machines this set owns; required, not empty, and must select the template's labels.",
      ),
    ),
    machineClass: Type.Optional(ClassSpec),
    template: Type.Optional(MachineTemplate),
    minReadySeconds: Type.Optional(
      Int32({ minimum: 0, description: "Seconds a machine must be Running before it counts as available." }),
    ),
    autoPreserveFailedMachineMax: Type.Optional(
      Int32({
        minimum: 0,
        description: "How many failed machines are preserved automatically for diagnosis.",
      }),
    ),
  },
  { description: "Specification of the machine set.", ...cel(...selectorRules) },
);

export const MachineSetStatus = Type.Object(
  {
    replicas: Type.Optional(Int32({ description: "Number of machines owned by the set." })),
    fullyLabeledReplicas: Type.Optional(
      Int32({ description: "Machines whose labels match the template's." }),
    ),
    readyReplicas: Type.Optional(Int32({ description: "Machines in phase Running." })),
    availableReplicas: Type.Optional(
      Int32({ description: "Machines Running (or Available) for at least minReadySeconds." }),
    ),
    preservedFailedReplicas: Type.Optional(Int32({ description: "Failed machines kept by preservation." })),
    observedGeneration: Type.Optional(Int64({ description: "Generation last acted on." })),
    machineSetCondition: Type.Optional(
      Type.Array(MachineSetCondition, { description: "Conditions of the set (ReplicaFailure, Frozen)." }),
    ),
    lastOperation: Type.Optional(LastOperation),
    failedMachines: Type.Optional(FailedMachines),
    autoPreserveFailedMachineCount: Type.Optional(
      Int32({ description: "Machines preserved automatically." }),
    ),
    labelSelector: labelSelectorStatus,
  },
  { description: "Observed state of the machine set." },
);

export const MachineSetSchema = Type.Object(
  {
    ...objectHeader,
    spec: Type.Optional(MachineSetSpec),
    status: Type.Optional(MachineSetStatus),
  },
  { description: "MachineSet keeps a number of identical machines running." },
);
export type MachineSet = Static<typeof MachineSetSchema>;
