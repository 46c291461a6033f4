import { AutoscalerKeys, Annotations, DeploymentConditions, PRESERVE_VALUES } from "../../api/constants.ts";
import { phaseOf } from "../../api/machine-state.ts";
import type { Machine } from "../../api/v1alpha1/machine.ts";
import type { MachineClass } from "../../api/v1alpha1/machineclass.ts";
import type { MachineDeployment } from "../../api/v1alpha1/machinedeployment.ts";
import type { MachineSet } from "../../api/v1alpha1/machineset.ts";
import { controllerRefOf } from "../../runtime/meta/owners.ts";
import { AutoscalerError } from "./errors.ts";

/** What the provider reads of the control namespace, listed at once (refreshed by Refresh). */
export interface Snapshot {
  readonly namespace: string;
  readonly deployments: readonly MachineDeployment[];
  readonly sets: readonly MachineSet[];
  readonly machines: readonly Machine[];
  readonly classes: readonly MachineClass[];
}

/** A node group: a MachineDeployment with both size annotations. */
export interface NodeGroup {
  readonly id: string;
  readonly minSize: number;
  readonly maxSize: number;
  readonly debug: string;
  readonly deployment: MachineDeployment;
}

/** The node as the cluster-autoscaler describes it (ExternalGrpcNode). */
export interface NodeRef {
  readonly providerID?: string;
  readonly name?: string;
  readonly labels?: Readonly<Record<string, string>>;
  readonly annotations?: Readonly<Record<string, string>>;
}

const nameOf = (o: { metadata?: { name?: string } }): string => o.metadata?.name ?? "";
const uidOf = (o: { metadata?: { uid?: string } }): string => o.metadata?.uid ?? "";

/** `<namespace>.<deployment>`, the id Gardener's --nodes flags use. */
export const groupId = (namespace: string, deployment: string): string => `${namespace}.${deployment}`;

const SIZE = /^\d{1,9}$/;

/** The group's sizes from the deployment's annotations, or why it is not a group. */
export function sizesOf(d: MachineDeployment): { min: number; max: number } | { problem: string } {
  const a = d.metadata?.annotations ?? {};
  const min = a[AutoscalerKeys.minSize];
  const max = a[AutoscalerKeys.maxSize];
  if (min === undefined || max === undefined) return { problem: "no size annotations" };
  if (!SIZE.test(min.trim()) || !SIZE.test(max.trim())) {
    return {
      problem: `${AutoscalerKeys.minSize}=${min} or ${AutoscalerKeys.maxSize}=${max} is not a whole number`,
    };
  }
  const [lo, hi] = [Number(min), Number(max)];
  if (lo > hi) return { problem: `min size ${lo} is above max size ${hi}` };
  return { min: lo, max: hi };
}

/** Every node group of the snapshot (deployments being deleted and groups of max 0 are hidden). */
export function groupsOf(s: Snapshot): NodeGroup[] {
  const groups: NodeGroup[] = [];
  for (const d of s.deployments) {
    if (d.metadata?.deletionTimestamp) continue;
    const sizes = sizesOf(d);
    if ("problem" in sizes || sizes.max === 0) continue;
    const id = groupId(s.namespace, nameOf(d));
    const debug = `MachineDeployment ${s.namespace}/${nameOf(d)} (min ${sizes.min}, max ${sizes.max}, replicas ${d.spec?.replicas ?? 0})`;
    groups.push({ id, minSize: sizes.min, maxSize: sizes.max, debug, deployment: d });
  }
  return groups;
}

/** The group with this id, or NotFound naming it. */
export function groupById(s: Snapshot, id: string): NodeGroup {
  if (!id) throw new AutoscalerError("InvalidArgument", "node group id is empty");
  const group = groupsOf(s).find((g) => g.id === id);
  if (!group) {
    throw new AutoscalerError(
      "NotFound",
      `node group ${id} does not exist: no MachineDeployment ${id} in namespace ${s.namespace} with ${AutoscalerKeys.minSize} and ${AutoscalerKeys.maxSize}`,
    );
  }
  return group;
}

/** The deployment that controls the machine through its MachineSet (Machine → MachineSet → MachineDeployment). */
export function deploymentOf(s: Snapshot, m: Machine): MachineDeployment | undefined {
  const setRef = controllerRefOf(m);
  if (setRef?.kind !== "MachineSet") return undefined;
  const set = s.sets.find((x) => uidOf(x) === setRef.uid);
  const ref = set && controllerRefOf(set);
  if (ref?.kind !== "MachineDeployment") return undefined;
  return s.deployments.find((d) => uidOf(d) === ref.uid);
}

/** The group's machines: those its MachineSets control. */
export const machinesOf = (s: Snapshot, group: NodeGroup): Machine[] =>
  s.machines.filter((m) => uidOf(deploymentOf(s, m) ?? {}) === uidOf(group.deployment));

const lastSegment = (id: string | undefined): string => id?.split("/").pop() ?? "";

/**
 * The machine behind a node, as Gardener's provider finds it: the last `/`-segment of the node's
 * providerID equal to that of the machine's providerID or to the machine's name; then the node's
 * name equal to the machine's node label or name.
 */
export function machineForNode(s: Snapshot, node: NodeRef): Machine | undefined {
  const id = lastSegment(node.providerID);
  if (id) {
    const m = s.machines.find((x) => lastSegment(x.spec?.providerID) === id || nameOf(x) === id);
    if (m) return m;
  }
  const name = node.name ?? "";
  return name ? s.machines.find((x) => x.metadata?.labels?.node === name || nameOf(x) === name) : undefined;
}

/** True while the deployment rolls out: Gardener's provider refuses to shrink it then. */
export function rollingOut(d: MachineDeployment): boolean {
  const c = d.status?.conditions?.find((x) => x.type === "Progressing");
  if (!c) return false;
  const R = DeploymentConditions.reasons;
  return !(
    (c.status === "True" && c.reason === R.newMachineSetAvailable) ||
    (c.status === "Unknown" && c.reason === R.deploymentPaused)
  );
}

/** A machine the autoscaler can no longer remove: being deleted, Failed or Terminating, or preserved. */
export function notRemovable(m: Machine): string | undefined {
  if (m.metadata?.deletionTimestamp || phaseOf(m) === "Terminating") return "is already being deleted";
  if (phaseOf(m) === "Failed") return "has failed and is replaced by its set";
  const preserve = m.metadata?.annotations?.[Annotations.preserve] ?? "";
  if ((PRESERVE_VALUES as readonly string[]).includes(preserve)) return `is preserved (${preserve})`;
  return undefined;
}

/** A machine with a registered Node. */
export const registered = (m: Machine): boolean => Boolean(m.metadata?.labels?.node);
