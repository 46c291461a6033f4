import { type Static, Type } from "@sinclair/typebox";
import { LEGACY_MACHINE_CLASS_KINDS, MACHINE_CLASS_KIND } from "../constants.ts";
import { cel, type CelRule, Duration, Int32, NodeAddress, OpenStringEnum, Time } from "../schema.ts";
import { Taint, TemplateMetadata } from "../labels.ts";
import { MACHINE_OPERATION_STATES, MACHINE_OPERATION_TYPES, MACHINE_PHASES } from "../constants.ts";

const classKinds = [MACHINE_CLASS_KIND, ...LEGACY_MACHINE_CLASS_KINDS];

/** ClassSpec: the MachineClass a Machine is made from. */
export const ClassSpec = Type.Object(
  {
    apiGroup: Type.Optional(Type.String({ description: "API group of the class; machine.sapcloud.io." })),
    kind: Type.String({
      minLength: 1,
      description:
        "Kind of the class: MachineClass. The provider-specific kinds of older releases (AWSMachineClass, …) are accepted and resolve to the MachineClass of the same name.",
      ...cel({
        rule: `self in [${classKinds.map((k) => `'${k}'`).join(", ")}]`,
        message: `must be ${MACHINE_CLASS_KIND}`,
      }),
    }),
    name: Type.String({ minLength: 1, description: "Name of the MachineClass in the same namespace." }),
  },
  { description: "The MachineClass to create machines from." },
);

/** MachineConfiguration: per-machine overrides of the controller's flags, inlined into MachineSpec. */
export const machineConfiguration = {
  drainTimeout: Type.Optional(
    Duration("How long a drain may take before it is forced; overrides --machine-drain-timeout."),
  ),
  healthTimeout: Type.Optional(
    Duration(
      "How long a machine may stay unhealthy before it is replaced; overrides --machine-health-timeout.",
      {
        why: "every machine would be replaced at its first unhealthy heartbeat (use disableHealthTimeout to never replace)",
      },
    ),
  ),
  creationTimeout: Type.Optional(
    Duration("How long a machine may take to join as a Node; overrides --machine-creation-timeout.", {
      why: "its bootstrap token would expire before the machine could join, and it would be replaced for ever",
    }),
  ),
  inPlaceUpdateTimeout: Type.Optional(
    Duration("How long an in-place update may take; overrides --machine-inplace-update-timeout.", {
      why: "no update could ever finish in time",
    }),
  ),
  machinePreserveTimeout: Type.Optional(
    Duration("How long a preserved failed machine is kept; overrides --machine-preserve-timeout."),
  ),
  disableHealthTimeout: Type.Optional(
    Type.Boolean({
      description: "When true, an unhealthy machine is never marked Failed by the health timeout.",
    }),
  ),
  maxEvictRetries: Type.Optional(
    Int32({
      minimum: 0,
      description: "How often eviction of a pod is retried; overrides --machine-max-evict-retries.",
    }),
  ),
  nodeConditions: Type.Optional(
    Type.String({
      description:
        "Comma-separated node condition types that make a machine unhealthy; overrides --node-conditions.",
    }),
  ),
};

/** NodeTemplateSpec of a Machine: labels, annotations and taints synced onto its Node. */
export const MachineNodeTemplate = Type.Object(
  {
    metadata: Type.Optional(TemplateMetadata("Labels and annotations put on the Node.")),
    spec: Type.Optional(
      Type.Object(
        {
          configSource: Type.Optional(
            Type.Object(
              {
                configMap: Type.Optional(
                  Type.Object({
                    kubeletConfigKey: Type.String({ description: "Key of the kubelet configuration." }),
                    name: Type.String({ description: "Name of the ConfigMap." }),
                    namespace: Type.String({ description: "Namespace of the ConfigMap." }),
                    resourceVersion: Type.Optional(
                      Type.String({ description: "Observed resource version." }),
                    ),
                    uid: Type.Optional(Type.String({ description: "UID of the ConfigMap." })),
                  }),
                ),
              },
              { description: "Deprecated dynamic kubelet configuration source." },
            ),
          ),
          externalID: Type.Optional(Type.String({ description: "Deprecated external ID." })),
          podCIDR: Type.Optional(Type.String({ description: "Pod IP range of the node." })),
          podCIDRs: Type.Optional(
            Type.Array(Type.String(), {
              description: "Pod IP ranges of the node.",
              "x-kubernetes-list-type": "set",
            }),
          ),
          providerID: Type.Optional(Type.String({ description: "Provider ID of the node." })),
          taints: Type.Optional(
            Type.Array(Taint(), {
              description: "Taints put on the Node (at most 64).",
              maxItems: 64,
              "x-kubernetes-list-type": "atomic",
            }),
          ),
          unschedulable: Type.Optional(Type.Boolean({ description: "Whether the Node is cordoned." })),
        },
        { description: "Node spec fields put on the Node (taints, unschedulable)." },
      ),
    ),
  },
  { description: "Labels, annotations and taints synced onto the machine's Node without a rollout." },
);

/** MachineSpec: shared by Machine.spec and the templates of MachineSet and MachineDeployment. */
export const MachineSpec = Type.Object(
  {
    class: ClassSpec,
    providerID: Type.Optional(
      Type.String({ description: "Provider ID of the VM backing the machine, set by sprout." }),
    ),
    nodeTemplate: Type.Optional(MachineNodeTemplate),
    ...machineConfiguration,
  },
  { description: "Specification of a machine." },
);
export type MachineSpec = Static<typeof MachineSpec>;

/** LastOperation: the last operation on a machine (or a machine set) and its outcome. */
export const LastOperation = Type.Object(
  {
    description: Type.Optional(Type.String({ description: "Human-readable account of the operation." })),
    errorCode: Type.Optional(
      Type.String({ description: "Name of the driver error code, e.g. ResourceExhausted." }),
    ),
    lastUpdateTime: Type.Optional(Time("When the operation was last updated.")),
    state: Type.Optional(
      OpenStringEnum(MACHINE_OPERATION_STATES, { description: "State of the operation." }),
    ),
    type: Type.Optional(OpenStringEnum(MACHINE_OPERATION_TYPES, { description: "Type of the operation." })),
  },
  { description: "The last operation performed and its outcome." },
);
export type LastOperation = Static<typeof LastOperation>;

export const CurrentStatus = Type.Object(
  {
    lastUpdateTime: Type.Optional(Time("When the phase last changed.")),
    phase: Type.Optional(OpenStringEnum(MACHINE_PHASES, { description: "Phase of the machine." })),
    preserveExpiryTime: Type.Optional(Time("When preservation of the machine ends.")),
    timeoutActive: Type.Optional(
      Type.Boolean({ description: "Whether a creation or health timeout is running." }),
    ),
  },
  { description: "Phase of the machine and whether a timeout is running." },
);

/** A failed machine as summarised in MachineSet and MachineDeployment status. */
export const FailedMachine = Type.Object({
  lastOperation: Type.Optional(LastOperation),
  name: Type.Optional(Type.String({ description: "Name of the machine." })),
  ownerRef: Type.Optional(Type.String({ description: "Name of the owning MachineSet." })),
  providerID: Type.Optional(Type.String({ description: "Provider ID of the machine." })),
});

export const FailedMachines = Type.Array(FailedMachine, {
  description: "Machines whose last operation failed.",
});

export const NodeAddresses = Type.Array(NodeAddress(), {
  description: "Addresses of the VM; filled only when sprout runs without a target cluster.",
});

/** The template of machines made by a MachineSet or MachineDeployment. */
export const MachineTemplate = Type.Object(
  {
    metadata: Type.Optional(TemplateMetadata("Labels and annotations of the machines.")),
    spec: Type.Optional(MachineSpec),
  },
  { description: "Template of the machines." },
);

const TEMPLATE_LABELS = "self.template.metadata.labels";
const hasTemplateLabels =
  "has(self.template) && has(self.template.metadata) && has(self.template.metadata.labels)";
const templateHas = (key: string) => `(${hasTemplateLabels} && ${key} in ${TEMPLATE_LABELS})`;

/**
 * Spec-level CEL of MachineSet and MachineDeployment: the selector is set, not empty, and selects
 * the template's labels (matchLabels a subset of them; every matchExpression satisfied by them).
 * An empty or missing selector would select every machine of the namespace, one that does not
 * select the template would make its owner create machines it never counts.
 */
export const selectorRules: CelRule[] = [
  {
    rule: "has(self.selector) && ((has(self.selector.matchLabels) && size(self.selector.matchLabels) > 0) || (has(self.selector.matchExpressions) && size(self.selector.matchExpressions) > 0))",
    message:
      "selector is required and must not be empty: set selector.matchLabels to labels that template.metadata.labels also has",
    fieldPath: ".selector",
    reason: "FieldValueRequired",
  },
  {
    rule: `!has(self.selector) || !has(self.selector.matchLabels) || self.selector.matchLabels.all(k, ${templateHas("k")} && ${TEMPLATE_LABELS}[k] == self.selector.matchLabels[k])`,
    message: "selector.matchLabels must also be set, with the same values, in template.metadata.labels",
    fieldPath: ".selector.matchLabels",
  },
  {
    rule: [
      "!has(self.selector) || !has(self.selector.matchExpressions) || self.selector.matchExpressions.all(e, ",
      `e.operator == 'In' ? (has(e.values) && ${templateHas("e.key")} && ${TEMPLATE_LABELS}[e.key] in e.values) : `,
      `e.operator == 'NotIn' ? (!${templateHas("e.key")} || !has(e.values) || !(${TEMPLATE_LABELS}[e.key] in e.values)) : `,
      `e.operator == 'Exists' ? ${templateHas("e.key")} : `,
      `e.operator == 'DoesNotExist' ? !${templateHas("e.key")} : false)`,
    ].join(""),
    message:
      "selector.matchExpressions must select template.metadata.labels: In needs the key with one of the values, NotIn the key absent or with another value, Exists the key, DoesNotExist no such key",
    fieldPath: ".selector.matchExpressions",
  },
];
