/**
 * Every label, annotation, finalizer, taint, condition type and reason, phase and error-code name that
 * sprout reads or writes, defined once. Names shared with Gardener's machine-controller-manager keep
 * its exact strings; names sprout adds live under the sprout.gardener.cloud prefix.
 */

export const GROUP = "machine.sapcloud.io";
export const VERSION = "v1alpha1";
export const API_VERSION = `${GROUP}/${VERSION}`;

export const MACHINE_CLASS_KIND = "MachineClass";
/** Provider-specific class kinds of older releases; a Machine naming one resolves to the MachineClass of that name. */
export const LEGACY_MACHINE_CLASS_KINDS = [
  "AWSMachineClass",
  "AzureMachineClass",
  "GCPMachineClass",
  "OpenStackMachineClass",
  "AlicloudMachineClass",
  "PacketMachineClass",
] as const;

/** Labels. */
export const Labels = {
  /** Machine: name of the backing Node (the Machine↔Node join key). */
  node: "node",
  /** Machine: name of the MachineDeployment (set by the template). */
  name: "name",
  /** Machine, MachineSet: hash of the MachineDeployment template. */
  machineTemplateHash: "machine-template-hash",
  /** Machine: "true" forces drain and deletion. */
  forceDeletion: "force-deletion",
  /** Machine: "True" forces drain in the in-place and preservation paths. */
  forceDrain: "force-drain",
  /** MachineSet, MachineDeployment: "True" while frozen by the safety controller. */
  freeze: "freeze",
  /** MachineSet: old machine sets must not recreate transferred machines (in-place updates). */
  scaleUpDisabled: "node.machine.sapcloud.io/scale-up-disabled",
  /** Node: machine name; finds the Node when the Machine's node label is missing. */
  nodeMachineName: "node.gardener.cloud/machine-name",
  /** Node: worker pool name (read by the cluster-autoscaler). */
  workerPool: "worker.gardener.cloud/pool",
  /** Node: in-place update protocol. */
  candidateForUpdate: "node.machine.sapcloud.io/candidate-for-update",
  selectedForUpdate: "node.machine.sapcloud.io/selected-for-update",
  updateResult: "node.machine.sapcloud.io/update-result",
  /** Bootstrap-token Secret (target kube-system): uid of the Machine the token is for. */
  bootstrapTokenOwner: "sprout.gardener.cloud/machine-uid",
} as const;

/** Annotations. */
export const Annotations = {
  /** Machine: scale-down order; "1" is deleted first, "3" is the default. */
  machinePriority: "machinepriority.machine.sapcloud.io",
  /** Machine: RFC 3339 time the cluster-autoscaler picked the machine. */
  markedForDeletionTime: "machine.sapcloud.io/marked-for-deletion-time",
  /** Machine (from MachineSet/MachineDeployment): wins over every other creation timeout. */
  effectiveCreationTimeout: "node.machine.sapcloud.io/effective-creation-timeout",
  /** Machine: how long the first join took (Go duration). */
  machineJoinDuration: "node.machine.sapcloud.io/machine-join-duration",
  /** Machine or Node (Node wins): now, when-failed, auto-preserved or false. */
  preserve: "node.machine.sapcloud.io/preserve",
  lastAppliedNodePreserveValue: "node.machine.sapcloud.io/last-applied-node-preserve-value",
  /** MachineSet, MachineDeployment: manual unfreeze. */
  unfreeze: "safety.machine.sapcloud.io/unfreeze",
  /** MachineSet: a rollout is in progress. */
  preferNoSchedule: "deployment.machine.sapcloud.io/prefer-no-schedule",
  /** MachineDeployment: last replica change by the cluster-autoscaler. */
  lastReplicaChangeByScaler: "machine.sapcloud.io/last-deployment-replica-change-by-scaler-time",
  /** MachineDeployment: "m1~T1,m2~T2" machines the cluster-autoscaler wants removed. */
  triggerDeletionByMCM: "node.machine.sapcloud.io/trigger-deletion-by-mcm",
  revision: "deployment.kubernetes.io/revision",
  revisionHistory: "deployment.kubernetes.io/revision-history",
  desiredReplicas: "deployment.kubernetes.io/desired-replicas",
  maxReplicas: "deployment.kubernetes.io/max-replicas",
  /** Node: JSON of the last applied nodeTemplate, for three-way removal. */
  lastAppliedAnnoLabelsTaints: "node.machine.sapcloud.io/last-applied-anno-labels-taints",
  lastAppliedVirtualCapacity: "node.machine.sapcloud.io/last-applied-virtual-capacity",
  /** Node: "1" for a Node without a Machine; ignored by sprout. */
  notManagedByMCM: "node.machine.sapcloud.io/not-managed-by-mcm",
  /** Node: stops cluster-autoscaler scale-down; the -by-mcm marker says sprout set it. */
  scaleDownDisabled: "cluster-autoscaler.kubernetes.io/scale-down-disabled",
  scaleDownDisabledByMCM: "cluster-autoscaler.kubernetes.io/scale-down-disabled-by-mcm",
  updateFailedReason: "node.machine.sapcloud.io/update-failed-reason",
  /** MachineDeployment: per-node-group cluster-autoscaler options. */
  scaleDownUtilizationThreshold: "autoscaler.gardener.cloud/scale-down-utilization-threshold",
  scaleDownGpuUtilizationThreshold: "autoscaler.gardener.cloud/scale-down-gpu-utilization-threshold",
  scaleDownUnneededTime: "autoscaler.gardener.cloud/scale-down-unneeded-time",
  scaleDownUnreadyTime: "autoscaler.gardener.cloud/scale-down-unready-time",
  maxNodeProvisionTime: "autoscaler.gardener.cloud/max-node-provision-time",
  /** Machine: id of its bootstrap token (Secret kube-system/bootstrap-token-<id> in the target). */
  bootstrapTokenId: "sprout.gardener.cloud/bootstrap-token-id",
} as const;

/** Finalizers. */
export const Finalizers = {
  /** Machine, MachineSet, MachineDeployment, MachineClass (while referenced). */
  machineControllerManager: "machine.sapcloud.io/machine-controller-manager",
  /** Secrets referenced by a MachineClass. */
  machineController: "machine.sapcloud.io/machine-controller",
  /** Nodes backed by a live Machine. */
  node: "node.machine.sapcloud.io/machine-controller",
} as const;

/** Taints. */
export const Taints = {
  preserved: "node.machine.sapcloud.io/preserved",
  criticalComponentsNotReady: "node.gardener.cloud/critical-components-not-ready",
  preferNoSchedule: "deployment.machine.sapcloud.io/prefer-no-schedule",
} as const;

/** Machine phases (status.currentStatus.phase); the empty phase means new. */
export const MACHINE_PHASES = [
  "Pending",
  "Available",
  "Running",
  "Terminating",
  "Unknown",
  "Failed",
  "CrashLoopBackOff",
  "InPlaceUpdating",
  "InPlaceUpdateSuccessful",
  "InPlaceUpdateFailed",
] as const;
export type MachinePhase = (typeof MACHINE_PHASES)[number];

export const MACHINE_OPERATION_STATES = ["Processing", "Failed", "Successful"] as const;
export type MachineOperationState = (typeof MACHINE_OPERATION_STATES)[number];

export const MACHINE_OPERATION_TYPES = [
  "Create",
  "Update",
  "InPlaceUpdate",
  "DrainNode",
  "HealthCheck",
  "Delete",
] as const;
export type MachineOperationType = (typeof MACHINE_OPERATION_TYPES)[number];

export const DEPLOYMENT_STRATEGY_TYPES = ["RollingUpdate", "Recreate", "InPlaceUpdate"] as const;
export type DeploymentStrategyType = (typeof DEPLOYMENT_STRATEGY_TYPES)[number];
export const ORCHESTRATION_TYPES = ["Auto", "Manual"] as const;

/** MachineDeployment condition types and reasons. */
export const DeploymentConditions = {
  types: ["Available", "Progressing", "ReplicaFailure", "Frozen"] as const,
  reasons: {
    newMachineSetCreated: "NewMachineSetCreated",
    foundNewMachineSet: "FoundNewMachineSet",
    machineSetUpdated: "MachineSetUpdated",
    newMachineSetAvailable: "NewMachineSetAvailable",
    progressDeadlineExceeded: "ProgressDeadlineExceeded",
    deploymentPaused: "DeploymentPaused",
    deploymentResumed: "DeploymentResumed",
    minimumReplicasAvailable: "MinimumReplicasAvailable",
    minimumReplicasUnavailable: "MinimumReplicasUnavailable",
    overShootingReplicaCount: "OverShootingReplicaCount",
    machineDeploymentStateSync: "MachineDeploymentStateSync",
    /** ReplicaFailure and Warning Event: a strategy sprout does not implement (InPlaceUpdate). */
    strategyNotSupported: "StrategyNotSupported",
  },
} as const;

/** MachineSet condition types (status.machineSetCondition) and reasons. */
export const MachineSetConditions = {
  types: ["ReplicaFailure", "Frozen"] as const,
  reasons: {
    failedCreate: "FailedCreate",
    failedDelete: "FailedDelete",
    /** The selector is missing, empty, malformed or does not select the template (also on deployments). */
    invalidSelector: "InvalidSelector",
  },
} as const;

/** Node conditions sprout writes. */
export const NodeConditions = {
  terminating: "Terminating",
  inPlaceUpdate: "InPlaceUpdate",
  preserved: "Preserved",
  reasons: { unhealthy: "Unhealthy", scaleDown: "ScaleDown" },
} as const;

/** Node condition types that make a machine unhealthy unless configured otherwise (--node-conditions). */
export const DEFAULT_UNHEALTHY_NODE_CONDITIONS = [
  "KernelDeadlock",
  "ReadonlyFilesystem",
  "DiskPressure",
  "NetworkUnavailable",
] as const;

/** Placeholders substituted in a MachineClass Secret's userData. */
export const Placeholders = {
  bootstrapToken: "<<BOOTSTRAP_TOKEN>>",
  machineName: "<<MACHINE_NAME>>",
} as const;

/** Keys of the Secret data sprout reads itself. */
export const SecretKeys = {
  userData: "userData",
} as const;

/**
 * Steps of a Machine's deletion. sprout records the step in status.deletionStep; it also writes
 * MCM's marker text into status.lastOperation.description and can resume from a marker alone (an
 * object last handled by MCM).
 */
export const DELETION_STEPS = [
  "GetVMStatus",
  "Drain",
  "DeleteVolumeAttachments",
  "DeleteVM",
  "DeleteNode",
  "RemoveFinalizer",
] as const;
export type DeletionStep = (typeof DELETION_STEPS)[number];

/** MCM's lastOperation.description markers of each deletion step. */
export const DELETION_MARKERS: Readonly<Record<DeletionStep, string>> = {
  GetVMStatus: "Set machine status to termination. Now, getting VM Status",
  Drain: "Initiate node drain",
  DeleteVolumeAttachments: "Delete Volume Attachments",
  DeleteVM: "Initiate VM deletion",
  DeleteNode: "Initiate node object deletion",
  RemoveFinalizer: "Initiate machine object finalizer removal",
};

/**
 * Standard conditions (metav1.Condition) sprout keeps in Machine status.machineConditions; MCM's
 * status.conditions stays the copy of the Node's conditions.
 */
export const MACHINE_CONDITION_TYPES = [
  "VMCreated",
  "NodeJoined",
  "Healthy",
  "Drained",
  "NodeTemplateApplied",
] as const;
export type MachineConditionType = (typeof MACHINE_CONDITION_TYPES)[number];

/** Deletion order of a MachineSet's surplus machines by phase, lowest first (MCM's ActiveMachines). */
export const PHASE_DELETION_ORDER: Readonly<Record<string, number>> = {
  "": 0,
  Terminating: 0,
  Failed: 1,
  CrashLoopBackOff: 2,
  Unknown: 3,
  Pending: 4,
  Available: 5,
  InPlaceUpdating: 5,
  InPlaceUpdateFailed: 5,
  InPlaceUpdateSuccessful: 5,
  Running: 6,
};

/** The machinepriority.machine.sapcloud.io value of a machine without one; "1" is deleted first. */
export const DEFAULT_MACHINE_PRIORITY = 3;

/**
 * MCM's retry periods (machineutils ConflictRetry, ShortRetry, MediumRetry, LongRetry): every
 * controller takes its requeue delays from these (the machine controller's config may shorten them).
 */
export interface RetryPeriods {
  /** After a write conflict or while a write is not yet in the cache. */
  readonly conflictRetryMs: number;
  /** Transient errors, waits on something soon done (a drain pass, a set's machines going). */
  readonly shortRetryMs: number;
  /** Other errors. */
  readonly mediumRetryMs: number;
  /** Errors unlikely to clear soon; the steady-state look again. */
  readonly longRetryMs: number;
}

export const MCM_RETRY_PERIODS: RetryPeriods = {
  conflictRetryMs: 200,
  shortRetryMs: 5_000,
  mediumRetryMs: 3 * 60_000,
  longRetryMs: 10 * 60_000,
};

/** Most machines a MachineSet creates or deletes in one sync (MCM's BurstReplicas). */
export const BURST_REPLICAS = 100;

/** Values of the preserve annotation that keep a machine from scale-down. */
export const PRESERVE_VALUES = ["now", "when-failed", "auto-preserved"] as const;

/** Reasons of Events (and conditions) of the machine controller that more than one module uses. */
export const MachineEventReasons = {
  /** The target's apiserver refused spec.nodeTemplate on the Node (invalid label key, taint effect). */
  nodeTemplateRefused: "NodeTemplateRefused",
  /** A spec timeout the controller ignores (negative, zero where zero is harmful, unparsable). */
  invalidTimeout: "InvalidTimeout",
} as const;

/** Reasons of the Events the MachineClass controller records. */
export const ClassEventReasons = {
  /** A MachineClass being deleted waits for the machines that still use it. */
  classInUse: "ClassInUse",
} as const;

/** Reasons of the Events the MachineSet and MachineDeployment controllers record. */
export const SetEventReasons = {
  successfulCreate: "SuccessfulCreate",
  successfulDelete: "SuccessfulDelete",
  scalingMachineSet: "ScalingMachineSet",
  deploymentRollback: "DeploymentRollback",
  rollbackRevisionNotFound: "DeploymentRollbackRevisionNotFound",
  rollbackTemplateUnchanged: "DeploymentRollbackTemplateUnchanged",
  triggerDeletion: "TriggerDeletion",
  /** A trigger-deletion entry names a machine that is not the deployment's own. */
  triggerDeletionForeign: "TriggerDeletionNotOwned",
  replacementsLimited: "ReplacementLimitReached",
} as const;

/** Reasons of the Events and conditions the safety controller records. */
export const SafetyReasons = {
  /** A VM of the cluster without a Machine was deleted (MachineClass Event). */
  orphanCollected: "OrphanVMCollected",
  /** Deleting such a VM failed; the next pass tries again (MachineClass Event). */
  orphanCollectFailed: "OrphanVMCollectFailed",
  /** A second VM carries a live Machine's name (Machine Event); the machine's deletion removes it. */
  duplicateVm: "DuplicateVM",
  /** A machine's VM is gone at the provider: the machine is Failed and replaced (Machine Event). */
  vmVanished: "VMVanished",
  /** Frozen condition: a set holds more machines than its replicas, surge and --safety-up allow (MCM's). */
  overShootingReplicaCount: "OverShootingReplicaCount",
  /** A set (and its deployment) was frozen for overshooting (Event on the set). */
  frozeSet: "FrozeMachineSet",
  /** A frozen set is back under its limit, or was unfrozen by annotation (Event on the set). */
  unfrozeSet: "UnfrozeMachineSet",
  /** Reason of an unfreeze asked for by the unfreeze annotation. */
  unfreezeAnnotation: "UnfreezeAnnotation",
  /** The control or the target apiserver could not be reached for the status check timeout (Event reason, log). */
  apiServerUnreachable: "APIServerUnreachable",
} as const;

/**
 * Machine spec fields a MachineSet passes to its existing machines and a MachineDeployment to its
 * current MachineSet without a rollout (with the class kind): the node template and the machine
 * configuration.
 */
export const UNROLLED_SPEC_FIELDS = [
  "nodeTemplate",
  "drainTimeout",
  "healthTimeout",
  "creationTimeout",
  "inPlaceUpdateTimeout",
  "machinePreserveTimeout",
  "disableHealthTimeout",
  "maxEvictRetries",
  "nodeConditions",
] as const;

/** The cluster-autoscaler's externalgrpc interface (docs/autoscaler.md). */
export const AutoscalerKeys = {
  /** MachineDeployment: smallest size of its node group; a group needs both sizes. */
  minSize: "sprout.gardener.cloud/autoscaler-node-group-min-size",
  /** MachineDeployment: largest size of its node group; 0 hides the group. */
  maxSize: "sprout.gardener.cloud/autoscaler-node-group-max-size",
  /** Node: GPU type, as Gardener's mcm provider names it. */
  gpuLabel: "gardener.cloud/accelerator",
  /** Instance id of a machine whose Node has not registered yet: requested://<machine>. */
  requestedScheme: "requested://",
  /** Pods a template node holds when its class does not say. */
  defaultPods: "110",
} as const;

/** Well-known Node labels a template node carries (kubernetes.io). */
export const WellKnownNodeLabels = {
  hostname: "kubernetes.io/hostname",
  os: "kubernetes.io/os",
  arch: "kubernetes.io/arch",
  betaOs: "beta.kubernetes.io/os",
  betaArch: "beta.kubernetes.io/arch",
  instanceType: "node.kubernetes.io/instance-type",
  betaInstanceType: "beta.kubernetes.io/instance-type",
  region: "topology.kubernetes.io/region",
  zone: "topology.kubernetes.io/zone",
  betaRegion: "failure-domain.beta.kubernetes.io/region",
  betaZone: "failure-domain.beta.kubernetes.io/zone",
} as const;
