/**
 * Malformed machine.sapcloud.io objects and the fragments the apiserver's 422 must contain (the
 * field's path and what is wrong with it). Shared by the admission test (against the apiserver alone)
 * and the hostile-input suite (against a running sprout).
 */

export type Obj = Record<string, unknown> & { kind: string };
export type MalformedCase = readonly [what: string, obj: Obj, fragments: readonly string[]];

type Spec = Record<string, unknown>;

export const machineSpec = (extra: Spec = {}): Spec => ({
  class: { kind: "MachineClass", name: "small" },
  ...extra,
});
export const template = (
  spec: Spec = {},
  labels: Record<string, string> = { pool: "a" },
  extra: Spec = {},
) => ({
  metadata: { labels, ...extra },
  spec: machineSpec(spec),
});
export const deployment = (spec: Spec): Obj => ({
  kind: "MachineDeployment",
  spec: { replicas: 1, selector: { matchLabels: { pool: "a" } }, template: template(), ...spec },
});
export const machineSet = (spec: Spec): Obj => ({
  kind: "MachineSet",
  spec: { replicas: 1, selector: { matchLabels: { pool: "a" } }, template: template(), ...spec },
});
export const machine = (spec: Spec): Obj => ({ kind: "Machine", spec: machineSpec(spec) });
export const machineClass = (fields: Spec): Obj => ({
  kind: "MachineClass",
  providerSpec: { ami: "ami-1" },
  ...fields,
});

const withoutSelector = (o: Obj): Obj => {
  const spec = { ...(o.spec as Spec) };
  delete spec.selector;
  return { ...o, spec };
};
const nodeTemplate = (nt: Spec): Spec => ({ nodeTemplate: nt });
const taint = (t: Spec): Spec => nodeTemplate({ spec: { taints: [t] } });
const expr = (e: Spec): Spec => ({ selector: { matchLabels: { pool: "a" }, matchExpressions: [e] } });
const duration = (field: string, value: string): Spec => ({ template: template({ [field]: value }) });

const REQUIRED = "selector is required and must not be empty";
const EXPRESSIONS = "selector.matchExpressions must select template.metadata.labels";
const LABEL_KEY = "every label key must be valid";
const LABEL_VALUE = "must be a valid label value";
const NON_NEGATIVE = "must be a duration of zero or more";
const POSITIVE = "must be greater than zero";
const T = "spec.template";
const NT = "spec.template.spec.nodeTemplate";

/** Objects the apiserver must refuse, with what its message must name. */
export const MALFORMED: readonly MalformedCase[] = [
  ["negative replicas", deployment({ replicas: -1 }), ["spec.replicas", "greater than or equal to 0"]],
  ["an unknown strategy type", deployment({ strategy: { type: "Blue" } }), ["spec.strategy.type", '"Blue"']],
  [
    "the InPlaceUpdate strategy",
    deployment({ strategy: { type: "InPlaceUpdate" } }),
    ["spec.strategy.type", "InPlaceUpdate is not implemented by sprout", "use RollingUpdate"],
  ],
  [
    "maxSurge and maxUnavailable both zero",
    deployment({ strategy: { type: "RollingUpdate", rollingUpdate: { maxSurge: 0, maxUnavailable: "0%" } } }),
    ["spec.strategy.rollingUpdate", "maxSurge and maxUnavailable must not both be zero"],
  ],
  [
    "maxSurge 00% and maxUnavailable 0",
    deployment({ strategy: { rollingUpdate: { maxSurge: "00%", maxUnavailable: 0 } } }),
    ["spec.strategy.rollingUpdate", "must not both be zero"],
  ],
  [
    "a maxSurge that is neither integer nor percentage",
    deployment({ strategy: { rollingUpdate: { maxSurge: "two", maxUnavailable: 1 } } }),
    ["spec.strategy.rollingUpdate.maxSurge", "must be a non-negative integer or a percentage"],
  ],
  [
    "a negative maxUnavailable",
    deployment({ strategy: { rollingUpdate: { maxSurge: 1, maxUnavailable: -1 } } }),
    ["spec.strategy.rollingUpdate.maxUnavailable", "must be a non-negative integer or a percentage"],
  ],
  [
    "a maxUnavailable above 100%",
    deployment({ strategy: { rollingUpdate: { maxSurge: 1, maxUnavailable: "150%" } } }),
    ["spec.strategy.rollingUpdate.maxUnavailable", "percentage of at most 100%"],
  ],
  [
    "rollingUpdate with the Recreate strategy",
    deployment({ strategy: { type: "Recreate", rollingUpdate: { maxSurge: 1 } } }),
    ["spec.strategy", "rollingUpdate may only be set when type is RollingUpdate"],
  ],
  [
    "a negative maxReplacements",
    deployment({ maxReplacements: -1 }),
    ["spec.maxReplacements", "must be a non-negative integer or a percentage"],
  ],
  [
    "a negative minReadySeconds",
    machineSet({ minReadySeconds: -1 }),
    ["spec.minReadySeconds", "greater than or equal to 0"],
  ],
  [
    "a MachineDeployment without template",
    { kind: "MachineDeployment", spec: { replicas: 1, selector: { matchLabels: { pool: "a" } } } },
    ["spec.template", "Required value"],
  ],
  [
    "inPlaceUpdate with the RollingUpdate strategy",
    deployment({ strategy: { type: "RollingUpdate", inPlaceUpdate: { maxSurge: 1 } } }),
    ["spec.strategy", "inPlaceUpdate may only be set when type is InPlaceUpdate"],
  ],
  [
    "a zero progressDeadlineSeconds",
    deployment({ progressDeadlineSeconds: 0 }),
    ["spec.progressDeadlineSeconds", "greater than or equal to 1"],
  ],
  [
    "a progressDeadlineSeconds not above minReadySeconds",
    deployment({ progressDeadlineSeconds: 30, minReadySeconds: 30 }),
    ["spec.progressDeadlineSeconds", "must be greater than minReadySeconds"],
  ],
  [
    "a negative revisionHistoryLimit",
    deployment({ revisionHistoryLimit: -1 }),
    ["spec.revisionHistoryLimit", "greater than or equal to 0"],
  ],
  [
    "a negative rollbackTo revision",
    deployment({ rollbackTo: { revision: -2 } }),
    ["spec.rollbackTo.revision", "greater than or equal to 0"],
  ],
  [
    "a negative autoPreserveFailedMachineMax",
    deployment({ autoPreserveFailedMachineMax: -1 }),
    ["spec.autoPreserveFailedMachineMax", "greater than or equal to 0"],
  ],
  [
    "negative MachineSet replicas",
    machineSet({ replicas: -3 }),
    ["spec.replicas", "greater than or equal to 0"],
  ],
  // Selectors: required, not empty, and selecting the template.
  ["a MachineSet without selector", withoutSelector(machineSet({})), ["spec.selector", REQUIRED]],
  ["a MachineDeployment without selector", withoutSelector(deployment({})), ["spec.selector", REQUIRED]],
  ["a MachineSet with an empty selector", machineSet({ selector: {} }), ["spec.selector", REQUIRED]],
  [
    "a MachineDeployment with empty matchLabels",
    deployment({ selector: { matchLabels: {} } }),
    ["spec.selector", REQUIRED],
  ],
  [
    "a selector the template labels do not match",
    deployment({ selector: { matchLabels: { pool: "b" } } }),
    ["spec.selector.matchLabels", "must also be set, with the same values, in template.metadata.labels"],
  ],
  [
    "a MachineSet selector the template labels do not match",
    machineSet({ selector: { matchLabels: { other: "x" } } }),
    ["spec.selector.matchLabels", "must also be set"],
  ],
  [
    "an unknown selector operator",
    machineSet(expr({ key: "pool", operator: "Like", values: ["a"] })),
    ["spec.selector.matchExpressions[0].operator", '"Like"'],
  ],
  [
    "In without values",
    machineSet(expr({ key: "pool", operator: "In" })),
    ["spec.selector.matchExpressions[0].values", "at least one value when operator is In or NotIn"],
  ],
  [
    "NotIn with an empty values list",
    deployment(expr({ key: "pool", operator: "NotIn", values: [] })),
    ["spec.selector.matchExpressions[0].values", "at least one value"],
  ],
  [
    "Exists with values",
    machineSet(expr({ key: "pool", operator: "Exists", values: ["a"] })),
    ["spec.selector.matchExpressions[0].values", "must be empty when operator is Exists or DoesNotExist"],
  ],
  [
    "In that the template's value does not satisfy",
    machineSet(expr({ key: "pool", operator: "In", values: ["b", "c"] })),
    ["spec.selector.matchExpressions", EXPRESSIONS],
  ],
  [
    "NotIn that excludes the template's value",
    deployment(expr({ key: "pool", operator: "NotIn", values: ["a"] })),
    ["spec.selector.matchExpressions", EXPRESSIONS],
  ],
  [
    "Exists on a key the template lacks",
    machineSet(expr({ key: "zone", operator: "Exists" })),
    ["spec.selector.matchExpressions", EXPRESSIONS],
  ],
  [
    "DoesNotExist on a key the template has",
    deployment(expr({ key: "pool", operator: "DoesNotExist" })),
    ["spec.selector.matchExpressions", EXPRESSIONS],
  ],
  [
    "a matchExpressions key that is not a label key",
    machineSet(expr({ key: "bad key!", operator: "DoesNotExist" })),
    ["spec.selector.matchExpressions[0].key", "must be a valid label key"],
  ],
  [
    "a matchExpressions value that is not a label value",
    machineSet(expr({ key: "pool", operator: "In", values: ["a", "b c"] })),
    ["spec.selector.matchExpressions[0].values[1]", LABEL_VALUE],
  ],
  [
    "a matchLabels key that is not a label key",
    machineSet({ selector: { matchLabels: { "bad key!": "a" } } }),
    ["spec.selector.matchLabels", LABEL_KEY],
  ],
  // Labels and annotations of templates and node templates.
  [
    "a template label key with a space",
    deployment({ template: template({}, { pool: "a", "bad key!": "x" }) }),
    [`${T}.metadata.labels`, LABEL_KEY],
  ],
  [
    "a template label key with a 254-character prefix",
    machineSet({ template: template({}, { pool: "a", [`${"a".repeat(254)}/name`]: "x" }) }),
    [`${T}.metadata.labels`, LABEL_KEY],
  ],
  [
    "a template label value with a space",
    deployment({ template: template({}, { pool: "a", role: "x y" }) }),
    [`${T}.metadata.labels[role]`, LABEL_VALUE],
  ],
  [
    "a template label value of 64 characters",
    machineSet({ template: template({}, { pool: "a", role: "v".repeat(64) }) }),
    [`${T}.metadata.labels.role`, "Too long: may not be more than 63"],
  ],
  [
    "a template annotation key with a slash too many",
    deployment({ template: template({}, { pool: "a" }, { annotations: { "a/b/c": "x" } }) }),
    [`${T}.metadata.annotations`, "every annotation key must be valid"],
  ],
  [
    "a nodeTemplate label key with a space",
    deployment({ template: template(nodeTemplate({ metadata: { labels: { "bad key!": "x" } } })) }),
    [`${NT}.metadata.labels`, LABEL_KEY],
  ],
  [
    "a nodeTemplate label value that ends in a dash",
    machineSet({ template: template(nodeTemplate({ metadata: { labels: { role: "x-" } } })) }),
    [`${NT}.metadata.labels[role]`, LABEL_VALUE],
  ],
  [
    "a nodeTemplate annotation key that is empty",
    deployment({ template: template(nodeTemplate({ metadata: { annotations: { "": "x" } } })) }),
    [`${NT}.metadata.annotations`, "every annotation key must be valid"],
  ],
  [
    "a Machine nodeTemplate label key with an upper-case prefix",
    machine(nodeTemplate({ metadata: { labels: { "Example.com/role": "x" } } })),
    ["spec.nodeTemplate.metadata.labels", LABEL_KEY],
  ],
  [
    "257 template labels",
    machineSet({
      template: template(
        {},
        { pool: "a", ...Object.fromEntries([...Array(256).keys()].map((i) => [`l${i}`, "x"])) },
      ),
    }),
    [`${T}.metadata.labels`, "must have at most 256 items"],
  ],
  // Taints.
  [
    "a taint effect Bogus",
    deployment({ template: template(taint({ key: "dedicated", effect: "Bogus" })) }),
    [`${NT}.spec.taints[0].effect`, '"Bogus"'],
  ],
  [
    "a taint key with a space",
    machineSet({ template: template(taint({ key: "bad key", effect: "NoSchedule" })) }),
    [`${NT}.spec.taints[0].key`, "must be a valid taint key"],
  ],
  [
    "a taint value with a slash",
    machine(taint({ key: "dedicated", value: "a/b", effect: "NoExecute" })),
    ["spec.nodeTemplate.spec.taints[0].value", LABEL_VALUE],
  ],
  [
    "a taint without effect",
    machine(taint({ key: "dedicated" })),
    ["spec.nodeTemplate.spec.taints[0].effect", "Required value"],
  ],
  [
    "65 taints",
    machine(
      nodeTemplate({
        spec: { taints: [...Array(65).keys()].map((i) => ({ key: `t${i}`, effect: "NoSchedule" })) },
      }),
    ),
    ["spec.nodeTemplate.spec.taints", "must have at most 64 items"],
  ],
  [
    "33 matchExpressions",
    machineSet({
      selector: {
        matchLabels: { pool: "a" },
        matchExpressions: [...Array(33).keys()].map((i) => ({ key: `k${i}`, operator: "DoesNotExist" })),
      },
    }),
    ["spec.selector.matchExpressions", "must have at most 32 items"],
  ],
  // Durations.
  [
    "a negative healthTimeout",
    deployment(duration("healthTimeout", "-1s")),
    [`${T}.spec.healthTimeout`, NON_NEGATIVE],
  ],
  [
    "a zero healthTimeout",
    deployment(duration("healthTimeout", "0s")),
    [`${T}.spec.healthTimeout`, POSITIVE],
  ],
  [
    "a negative creationTimeout",
    machineSet(duration("creationTimeout", "-5m")),
    [`${T}.spec.creationTimeout`, NON_NEGATIVE],
  ],
  [
    "a zero creationTimeout",
    machine({ creationTimeout: "0" }),
    ["spec.creationTimeout", POSITIVE, "bootstrap token"],
  ],
  ["a negative drainTimeout", machine({ drainTimeout: "-1h" }), ["spec.drainTimeout", NON_NEGATIVE]],
  [
    "a negative machinePreserveTimeout",
    deployment(duration("machinePreserveTimeout", "-10m")),
    [`${T}.spec.machinePreserveTimeout`, NON_NEGATIVE],
  ],
  [
    "a zero inPlaceUpdateTimeout",
    machine({ inPlaceUpdateTimeout: "0ms" }),
    ["spec.inPlaceUpdateTimeout", POSITIVE],
  ],
  [
    "a drain timeout that is not a duration",
    machine({ drainTimeout: "5 minutes" }),
    ["spec.drainTimeout", NON_NEGATIVE],
  ],
  [
    "a health timeout without unit",
    deployment(duration("healthTimeout", "10")),
    [`${T}.spec.healthTimeout`, NON_NEGATIVE],
  ],
  [
    "a creation timeout in days",
    machineSet(duration("creationTimeout", "1d")),
    [`${T}.spec.creationTimeout`, NON_NEGATIVE],
  ],
  [
    "a duration of 65 characters",
    machine({ drainTimeout: `${"1".repeat(63)}ms` }),
    ["spec.drainTimeout", "Too long"],
  ],
  // Classes and machines.
  [
    "a class kind other than MachineClass",
    machine({ class: { kind: "Pod", name: "x" } }),
    ["spec.class.kind", "must be MachineClass"],
  ],
  [
    "a class without name",
    machine({ class: { kind: "MachineClass" } }),
    ["spec.class.name", "Required value"],
  ],
  [
    "an empty class name",
    machine({ class: { kind: "MachineClass", name: "" } }),
    ["spec.class.name", "at least 1 chars long"],
  ],
  [
    "an empty class kind",
    machine({ class: { kind: "", name: "small" } }),
    ["spec.class.kind", "at least 1 chars long"],
  ],
  ["a Machine without spec", { kind: "Machine" }, ["spec", "Required value"]],
  [
    "a negative maxEvictRetries",
    machine({ maxEvictRetries: -5 }),
    ["spec.maxEvictRetries", "greater than or equal to 0"],
  ],
  [
    "a MachineClass without providerSpec",
    { kind: "MachineClass", provider: "AWS" },
    ["providerSpec", "Required value"],
  ],
  [
    "a MachineClass nodeTemplate whose capacity lacks gpu",
    machineClass({
      nodeTemplate: {
        capacity: { cpu: "2", memory: "8Gi" },
        instanceType: "m5.large",
        region: "r",
        zone: "z",
      },
    }),
    ["nodeTemplate.capacity", "capacity must name cpu, gpu and memory"],
  ],
  [
    "a MachineClass nodeTemplate capacity that is not a quantity",
    machineClass({
      nodeTemplate: {
        capacity: { cpu: "two", gpu: "0", memory: "8Gi" },
        instanceType: "m5.large",
        region: "r",
        zone: "z",
      },
    }),
    ["nodeTemplate.capacity.cpu", "should match"],
  ],
  [
    "a MachineClass nodeTemplate without instanceType, region and zone",
    machineClass({ nodeTemplate: { capacity: { cpu: "2", gpu: "0", memory: "8Gi" } } }),
    ["nodeTemplate.instanceType", "nodeTemplate.region", "nodeTemplate.zone", "Required value"],
  ],
];
