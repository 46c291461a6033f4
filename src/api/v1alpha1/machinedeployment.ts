import { type Static, Type } from "@sinclair/typebox";
import { DEPLOYMENT_STRATEGY_TYPES, DeploymentConditions, ORCHESTRATION_TYPES } from "../constants.ts";
import {
  cel,
  Int32,
  Int64,
  IntOrPercent,
  intOrPercentRule,
  OpenStringEnum,
  StringEnum,
  Time,
} from "../schema.ts";
import { LabelSelector } from "../labels.ts";
import { objectHeader } from "./object.ts";
import { labelSelectorStatus, replicasField } from "./machineset.ts";
import { FailedMachines, MachineTemplate, selectorRules } from "./shared.ts";

const isZero = (f: string): string =>
  `(has(self.${f}) && (type(self.${f}) == int ? int(self.${f}) == 0 : string(self.${f}).matches('^0+%$')))`;

const surgeAndUnavailable = (what: string) => ({
  maxSurge: Type.Optional(
    IntOrPercent(`How many machines may be created above the desired count during ${what}.`),
  ),
  maxUnavailable: Type.Optional(IntOrPercent(`How many machines may be unavailable during ${what}.`)),
});

const notBothZero = cel(intOrPercentRule("maxSurge"), intOrPercentRule("maxUnavailable", 100), {
  rule: `!(${isZero("maxSurge")} && ${isZero("maxUnavailable")})`,
  message: "maxSurge and maxUnavailable must not both be zero: the rollout could never make progress",
});

export const Strategy = Type.Object(
  {
    type: Type.Optional(
      StringEnum(DEPLOYMENT_STRATEGY_TYPES, {
        default: "RollingUpdate",
        description:
          "How machines are replaced: RollingUpdate (default) or Recreate. InPlaceUpdate (MCM's in-place update) is refused: sprout does not implement it.",
      }),
    ),
    rollingUpdate: Type.Optional(
      Type.Object(surgeAndUnavailable("a rolling update"), {
        description: "Parameters of a RollingUpdate; both default to 25% when unset.",
        ...notBothZero,
      }),
    ),
    inPlaceUpdate: Type.Optional(
      Type.Object(
        {
          ...surgeAndUnavailable("an in-place update"),
          orchestrationType: Type.Optional(
            StringEnum(ORCHESTRATION_TYPES, { description: "Auto or Manual selection of nodes to update." }),
          ),
        },
        { description: "Parameters of an InPlaceUpdate.", ...notBothZero },
      ),
    ),
  },
  {
    description: "How existing machines are replaced by new ones.",
    default: { type: "RollingUpdate" },
    ...cel(
      {
        rule: "!has(self.type) || self.type != 'InPlaceUpdate'",
        message:
          "type InPlaceUpdate is not implemented by sprout: use RollingUpdate (machines are replaced a few at a time) or Recreate",
        fieldPath: ".type",
        reason: "FieldValueForbidden",
      },
      {
        rule: "!has(self.rollingUpdate) || !has(self.type) || self.type == 'RollingUpdate'",
        message: "rollingUpdate may only be set when type is RollingUpdate",
      },
      {
        rule: "!has(self.inPlaceUpdate) || (has(self.type) && self.type == 'InPlaceUpdate')",
        message: "inPlaceUpdate may only be set when type is InPlaceUpdate",
      },
    ),
  },
);

const DeploymentCondition = Type.Object({
  lastTransitionTime: Type.Optional(Time("Last time the condition changed status.")),
  lastUpdateTime: Type.Optional(Time("Last time the condition was updated.")),
  message: Type.Optional(Type.String({ description: "Details of the last transition." })),
  reason: Type.Optional(
    Type.String({ description: "Reason of the last transition, e.g. NewMachineSetAvailable." }),
  ),
  status: Type.String({ description: "True, False or Unknown." }),
  type: OpenStringEnum(DeploymentConditions.types, { description: "Type of the condition." }),
});

export const MachineDeploymentSpec = Type.Object(
  {
    replicas: replicasField("machines"),
    selector: Type.Optional(
      LabelSelector(
        "Selects the machines of the deployment; required, not empty, and must select the template's labels.",
      ),
    ),
    template: MachineTemplate,
    strategy: Type.Optional(Strategy),
    minReadySeconds: Type.Optional(
      Int32({
        minimum: 0,
        description: "Seconds a new machine must be Running before it counts as available.",
      }),
    ),
    revisionHistoryLimit: Type.Optional(
      Int32({ minimum: 0, description: "How many old MachineSets are kept for rollback." }),
    ),
    paused: Type.Optional(Type.Boolean({ description: "When true, template changes are not rolled out." })),
    rollbackTo: Type.Optional(
      Type.Object(
        {
          revision: Type.Optional(
            Int64({ minimum: 0, description: "Revision to roll back to; 0 is the previous." }),
          ),
        },
        { description: "Deprecated: roll back to a revision; cleared once done." },
      ),
    ),
    progressDeadlineSeconds: Type.Optional(
      Int32({
        minimum: 1,
        description:
          "Seconds a rollout may go without progress before Progressing turns False (more than minReadySeconds); unset means no deadline.",
      }),
    ),
    autoPreserveFailedMachineMax: Type.Optional(
      Int32({
        minimum: 0,
        description: "How many failed machines are preserved automatically for diagnosis.",
      }),
    ),
    maxReplacements: Type.Optional(
      IntOrPercent(
        "How many unhealthy machines of the deployment may be in replacement at once (percentages of replicas round down, at least 1); 1 when unset, as MCM.",
      ),
    ),
  },
  {
    description: "Specification of the machine deployment.",
    "x-kubernetes-validations": [
      ...selectorRules,
      intOrPercentRule("maxReplacements"),
      {
        rule: "!has(self.progressDeadlineSeconds) || !has(self.minReadySeconds) || self.progressDeadlineSeconds > self.minReadySeconds",
        message:
          "progressDeadlineSeconds must be greater than minReadySeconds: a machine must be able to become available within the deadline",
        fieldPath: ".progressDeadlineSeconds",
      },
    ],
  },
);

export const MachineDeploymentStatus = Type.Object(
  {
    observedGeneration: Type.Optional(Int64({ description: "Generation last acted on." })),
    replicas: Type.Optional(Int32({ description: "Machines owned by the deployment's sets." })),
    updatedReplicas: Type.Optional(Int32({ description: "Machines with the current template." })),
    readyReplicas: Type.Optional(Int32({ description: "Machines in phase Running." })),
    availableReplicas: Type.Optional(
      Int32({ description: "Machines available for at least minReadySeconds." }),
    ),
    preservedFailedReplicas: Type.Optional(Int32({ description: "Failed machines kept by preservation." })),
    unavailableReplicas: Type.Optional(
      Int32({ description: "Machines still needed to reach the desired count." }),
    ),
    conditions: Type.Optional(
      Type.Array(DeploymentCondition, {
        description: "Conditions: Available, Progressing, ReplicaFailure, Frozen.",
      }),
    ),
    collisionCount: Type.Optional(Int32({ description: "Template hash collisions, used to name new sets." })),
    failedMachines: Type.Optional(FailedMachines),
    labelSelector: labelSelectorStatus,
  },
  { description: "Observed state of the machine deployment." },
);

export const MachineDeploymentSchema = Type.Object(
  {
    ...objectHeader,
    spec: Type.Optional(MachineDeploymentSpec),
    status: Type.Optional(MachineDeploymentStatus),
  },
  { description: "MachineDeployment rolls out and scales a pool of identical machines through MachineSets." },
);
export type MachineDeployment = Static<typeof MachineDeploymentSchema>;
