import { join } from "node:path";
import protobuf from "protobufjs";
import { Annotations, AutoscalerKeys, WellKnownNodeLabels as L } from "../../api/constants.ts";
import { parseDuration } from "../../api/duration.ts";
import type { MachineClass } from "../../api/v1alpha1/machineclass.ts";
import { AutoscalerError } from "./errors.ts";
import type { NodeGroup, Snapshot } from "./model.ts";

const nodeType = protobuf.loadSync(join(import.meta.dirname, "node.proto")).lookupType("sprout.k8s.v1.Node");

type Quantities = Record<string, { string: string }>;

type ClassTemplate = NonNullable<MachineClass["nodeTemplate"]>;

/** Capacity of the class's nodes (gpu as nvidia.com/gpu, virtual capacity added, 110 pods unless said). */
function capacityOf(nt: ClassTemplate): Quantities {
  const capacity: Quantities = {};
  for (const [k, v] of Object.entries({ ...nt.capacity, ...nt.virtualCapacity })) {
    capacity[k === "gpu" ? "nvidia.com/gpu" : k] = { string: String(v) };
  }
  capacity.pods ??= { string: AutoscalerKeys.defaultPods };
  return capacity;
}

/** The nodeTemplate of the group's class; Unimplemented (the autoscaler then copies a live node) without one. */
function classTemplate(s: Snapshot, group: NodeGroup): ClassTemplate {
  const className = group.deployment.spec?.template?.spec?.class?.name ?? "";
  const nt = s.classes.find((c) => c.metadata?.name === className)?.nodeTemplate;
  if (nt) return nt;
  throw new AutoscalerError(
    "Unimplemented",
    `MachineClass ${s.namespace}/${className} of node group ${group.id} has no nodeTemplate: scale from zero needs one`,
  );
}

/** The template node of a group as an object of node.proto's shape (Kubernetes' core/v1 Node fields). */
export function templateNode(s: Snapshot, group: NodeGroup): Record<string, unknown> {
  const d = group.deployment;
  const nt = classTemplate(s, group);
  const name = `template-node-for-${d.metadata?.name ?? ""}`;
  const arch = nt.architecture ?? "amd64";
  const capacity = capacityOf(nt);
  const tmpl = d.spec?.template?.spec?.nodeTemplate ?? {};
  const labels: Record<string, string> = {
    [L.hostname]: name,
    [L.os]: "linux",
    [L.betaOs]: "linux",
    [L.arch]: arch,
    [L.betaArch]: arch,
    [L.instanceType]: nt.instanceType,
    [L.betaInstanceType]: nt.instanceType,
    [L.region]: nt.region,
    [L.betaRegion]: nt.region,
    [L.zone]: nt.zone,
    [L.betaZone]: nt.zone,
    ...tmpl.metadata?.labels,
  };
  return {
    metadata: { name, labels, annotations: { ...tmpl.metadata?.annotations } },
    spec: {
      taints: (tmpl.spec?.taints ?? []).map((t) => ({ key: t.key, value: t.value ?? "", effect: t.effect })),
    },
    status: {
      capacity,
      allocatable: capacity,
      phase: "Running",
      conditions: [{ type: "Ready", status: "True", reason: "KubeletReady", message: "template node" }],
      nodeInfo: { operatingSystem: "linux", architecture: arch },
    },
  };
}

/** The template node in Kubernetes' protobuf encoding (what Node.Marshal() writes). */
export function encodeNode(node: Record<string, unknown>): Buffer {
  const problem = nodeType.verify(node);
  if (problem) throw new Error(`template node does not fit core/v1 Node: ${problem}`);
  return Buffer.from(nodeType.encode(nodeType.fromObject(node)).finish());
}

/** google.protobuf.Duration and Kubernetes' meta/v1 Duration, as proto-loader hands them over. */
interface PbDuration {
  seconds?: string | number;
  nanos?: number;
}
interface K8sDuration {
  duration?: string | number;
}
export interface AutoscalingOptions {
  scaleDownUtilizationThreshold?: number;
  scaleDownGpuUtilizationThreshold?: number;
  scaleDownUnneededTime?: K8sDuration | null;
  scaleDownUnreadyTime?: K8sDuration | null;
  MaxNodeProvisionTime?: K8sDuration | null;
  zeroOrMaxNodeScaling?: boolean;
  ignoreDaemonSetsUtilization?: boolean;
  scaleDownUnneededDuration?: PbDuration | null;
  scaleDownUnreadyDuration?: PbDuration | null;
  MaxNodeProvisionDuration?: PbDuration | null;
  maxNodeStartupDuration?: PbDuration | null;
  allowNonAtomicScaleUpToMax?: boolean;
}

const msOf = (pb: PbDuration | null | undefined, k8s: K8sDuration | null | undefined): number | undefined => {
  if (pb) return Number(pb.seconds ?? 0) * 1000 + (pb.nanos ?? 0) / 1e6;
  if (k8s) return Number(k8s.duration ?? 0) / 1e6;
  return undefined;
};
const pbOf = (ms: number): PbDuration => ({
  seconds: String(Math.trunc(ms / 1000)),
  nanos: Math.round((ms % 1000) * 1e6),
});
const k8sOf = (ms: number): K8sDuration => ({ duration: String(Math.round(ms * 1e6)) });

const DURATIONS = [
  [Annotations.scaleDownUnneededTime, "scaleDownUnneededDuration", "scaleDownUnneededTime"],
  [Annotations.scaleDownUnreadyTime, "scaleDownUnreadyDuration", "scaleDownUnreadyTime"],
  [Annotations.maxNodeProvisionTime, "MaxNodeProvisionDuration", "MaxNodeProvisionTime"],
] as const;
const THRESHOLDS = [
  [Annotations.scaleDownUtilizationThreshold, "scaleDownUtilizationThreshold"],
  [Annotations.scaleDownGpuUtilizationThreshold, "scaleDownGpuUtilizationThreshold"],
] as const;

/**
 * The group's options: the five autoscaler.gardener.cloud annotations over the given defaults
 * (every field of the answer replaces the autoscaler's default, so the others are echoed).
 * Durations are answered in both encodings, read from either.
 */
export function optionsFor(group: NodeGroup, defaults: AutoscalingOptions): AutoscalingOptions {
  const a = group.deployment.metadata?.annotations ?? {};
  const out: AutoscalingOptions = { ...defaults };
  for (const [key, field] of THRESHOLDS) {
    const v = a[key];
    if (v === undefined) continue;
    const n = Number(v.trim());
    if (v.trim() === "" || !Number.isFinite(n) || n < 0 || n > 1) {
      throw new AutoscalerError(
        "FailedPrecondition",
        `${key}=${v} on node group ${group.id} is not a number from 0 to 1`,
      );
    }
    out[field] = n;
  }
  for (const [key, pbField, k8sField] of DURATIONS) {
    const v = a[key];
    let ms = msOf(defaults[pbField], defaults[k8sField]);
    if (v !== undefined) {
      try {
        ms = parseDuration(v);
      } catch {
        ms = Number.NaN;
      }
      if (!(ms >= 0)) {
        throw new AutoscalerError(
          "FailedPrecondition",
          `${key}=${v} on node group ${group.id} is not a duration such as 30m`,
        );
      }
    }
    if (ms === undefined) continue;
    out[pbField] = pbOf(ms);
    out[k8sField] = k8sOf(ms);
  }
  return out;
}
