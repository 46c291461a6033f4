import { controllerRefOf, controllerRefTo } from "../../runtime/meta/owners.ts";
import {
  Annotations,
  API_VERSION,
  Finalizers,
  Labels,
  SetEventReasons,
  UNROLLED_SPEC_FIELDS,
} from "../../api/constants.ts";
import { MachineResources } from "../../api/resources.ts";
import type { MachineSet } from "../../api/v1alpha1/machineset.ts";
import { maxSurgeOf, maxUnavailableOf, strategyOf } from "../../api/strategy.ts";
import { isConflict } from "../../runtime/client/client.ts";
import { patchObject } from "../../runtime/client/patch.ts";
import { selectorMatches } from "../../runtime/selector.ts";
import type { DeployDeps, DeploymentObject, SetObject, SetsOf } from "./deps.ts";
import { equalIgnoreHash, templateHash } from "./hash.ts";

export { maxSurgeOf, maxUnavailableOf, strategyOf };

export const replicasOf = (s: MachineSet): number => s.spec?.replicas ?? 0;
export const sum = (sets: readonly MachineSet[], f: (s: MachineSet) => number): number =>
  sets.reduce((n, s) => n + f(s), 0);

/** Available machines of a set, never more than it is meant to keep (a set being scaled down). */
export const availableOf = (s: MachineSet): number =>
  Math.min(s.status?.availableReplicas ?? 0, replicasOf(s), s.status?.replicas ?? 0);

export const revisionOf = (o: { metadata?: { annotations?: Record<string, string> } }): number =>
  Number.parseInt(o.metadata?.annotations?.[Annotations.revision] ?? "0", 10) || 0;

const created = (s: MachineSet): number => Date.parse(s.metadata?.creationTimestamp ?? "") || 0;
export const byAge = (a: MachineSet, b: MachineSet): number =>
  created(a) - created(b) || (a.metadata?.name ?? "").localeCompare(b.metadata?.name ?? "");

/** The deployment's sets: owned ones, plus orphans its selector matches (adopted). */
export async function claimSets(
  d: DeploymentObject,
  all: readonly SetObject[],
  deps: DeployDeps,
): Promise<SetObject[]> {
  const uid = d.metadata?.uid;
  const owned: SetObject[] = [];
  for (const s of all) {
    const ref = controllerRefOf(s);
    if (ref?.uid === uid) owned.push(s);
    else if (
      !ref &&
      !d.metadata?.deletionTimestamp &&
      selectorMatches(d.spec?.selector, s.metadata?.labels)
    ) {
      const meta = s.metadata ?? {};
      const owners = [...(meta.ownerReferences ?? []), controllerRefTo(API_VERSION, "MachineDeployment", d)];
      const adopted = { ...s, metadata: { ...meta, ownerReferences: owners } };
      owned.push(await patchObject(deps.client, MachineResources.machineSets, s, adopted));
    }
  }
  return owned.sort(byAge);
}

/** Splits sets into the one matching the template (oldest such) and the rest. */
export function splitSets(d: DeploymentObject, sets: readonly SetObject[]): SetsOf {
  const newSet = sets.find((s) => equalIgnoreHash(s.spec?.template, d.spec?.template));
  return { newSet, oldSets: sets.filter((s) => s !== newSet) };
}

/** Annotations a set carries for the deployment's bookkeeping (desired and max replicas, scaler time). */
export function bookkeeping(d: DeploymentObject, replicasAnnotations: boolean): Record<string, string> {
  const out: Record<string, string> = {};
  const replicas = d.spec?.replicas ?? 0;
  if (replicasAnnotations) {
    out[Annotations.desiredReplicas] = String(replicas);
    out[Annotations.maxReplicas] = String(replicas + maxSurgeOf(d));
  }
  for (const key of [Annotations.lastReplicaChangeByScaler, Annotations.effectiveCreationTimeout]) {
    const v = d.metadata?.annotations?.[key];
    if (v) out[key] = v;
  }
  return out;
}

/**
 * Sets a set's replicas (and the deployment's bookkeeping annotations). Returns the set as written.
 */
export async function scaleSet(
  set: SetObject,
  replicas: number,
  d: DeploymentObject,
  deps: DeployDeps,
): Promise<SetObject> {
  const meta = set.metadata ?? {};
  const annotations = bookkeeping(d, true);
  const same =
    replicasOf(set) === replicas &&
    Object.entries(annotations).every(([k, v]) => meta.annotations?.[k] === v);
  if (same) return set;
  const after: SetObject = {
    ...set,
    metadata: { ...meta, annotations: { ...meta.annotations, ...annotations } },
    spec: { ...set.spec, replicas },
  };
  const written = await patchObject(deps.client, MachineResources.machineSets, set, after);
  if (replicasOf(set) !== replicas) {
    const verb = replicas > replicasOf(set) ? "up" : "down";
    const note = `Scaled ${verb} machine set ${meta.name ?? ""} to ${String(replicas)}`;
    await deps.events.record(d, "Normal", SetEventReasons.scalingMachineSet, "Scale", note);
  }
  return written;
}

/** The next revision: one more than any set's. */
export const nextRevision = (sets: readonly SetObject[]): number => Math.max(0, ...sets.map(revisionOf)) + 1;

/**
 * The set for the current template: the existing one (its template's non-rolling fields and its
 * revision brought up to date) or a new one with `replicas` machines.
 */
export async function ensureNewSet(
  d: DeploymentObject,
  sets: readonly SetObject[],
  replicas: number,
  deps: DeployDeps,
): Promise<SetObject> {
  const { newSet, oldSets } = splitSets(d, sets);
  const oldMax = Math.max(0, ...oldSets.map(revisionOf));
  if (newSet) {
    const revision = Math.max(revisionOf(newSet), oldMax + 1);
    return syncExistingSet(d, newSet, String(revision), deps);
  }
  const revision = String(oldMax + 1);
  const set = newSetFor(d, replicas, revision);
  try {
    const made = await deps.client.create<SetObject>(MachineResources.machineSets, set);
    const note = `Created new machine set ${made.metadata?.name ?? ""} (revision ${revision})`;
    await deps.events.record(d, "Normal", SetEventReasons.scalingMachineSet, "Create", note);
    return made;
  } catch (err) {
    if (!isConflict(err)) throw err;
    return sameNameSet(d, set, deps, err);
  }
}

/** The new set's name is taken by a set of another template: the next sync must hash differently. */
export class HashCollision extends Error {
  /** status.collisionCount to write, so the next sync picks another name. */
  readonly collisionCount: number;

  constructor(name: string, collisionCount: number, options?: ErrorOptions) {
    super(`MachineSet ${name} exists with another template (hash collision)`, options);
    this.name = "HashCollision";
    this.collisionCount = collisionCount;
  }
}

/**
 * Creating the new set met one of the same name: ours with this template (a lagging cache) is
 * used; another template is a hash collision (HashCollision).
 */
async function sameNameSet(
  d: DeploymentObject,
  set: SetObject,
  deps: DeployDeps,
  err: unknown,
): Promise<SetObject> {
  const name = set.metadata?.name ?? "";
  const dm = d.metadata ?? {};
  const existing = await deps.client.find<SetObject>(MachineResources.machineSets, dm.namespace, name);
  const ours = existing !== undefined && controllerRefOf(existing)?.uid === dm.uid;
  if (ours && equalIgnoreHash(existing.spec?.template, d.spec?.template)) return existing;
  throw new HashCollision(name, (d.status?.collisionCount ?? 0) + 1, { cause: err });
}

function newSetFor(d: DeploymentObject, replicas: number, revision: string): SetObject {
  const spec = d.spec ?? { template: {} };
  const dm = d.metadata ?? {};
  const hash = templateHash(spec.template, d.status?.collisionCount ?? 0);
  const template = spec.template;
  const labels = { ...template.metadata?.labels, [Labels.machineTemplateHash]: hash };
  const selector = spec.selector ?? {};
  return {
    apiVersion: API_VERSION,
    kind: "MachineSet",
    metadata: {
      name: `${dm.name ?? ""}-${hash.slice(0, 5)}`,
      namespace: dm.namespace ?? "",
      labels,
      annotations: { ...bookkeeping(d, true), [Annotations.revision]: revision },
      ownerReferences: [controllerRefTo(API_VERSION, "MachineDeployment", d)],
      // Born with the MachineSet controller's finalizer: one write less per set.
      finalizers: [Finalizers.machineControllerManager],
    },
    spec: {
      replicas,
      selector: { ...selector, matchLabels: { ...selector.matchLabels, [Labels.machineTemplateHash]: hash } },
      template: { ...template, metadata: { ...template.metadata, labels } },
      ...(spec.minReadySeconds !== undefined ? { minReadySeconds: spec.minReadySeconds } : {}),
      ...(template.spec ? { machineClass: template.spec.class } : {}),
    },
  };
}

/** The template of the current set with the deployment's non-rolling fields and class kind. */
function unrolledSynced(
  d: DeploymentObject,
  set: SetObject,
): NonNullable<NonNullable<SetObject["spec"]>["template"]> {
  const desired = d.spec?.template.spec;
  const current = set.spec?.template ?? {};
  if (!current.spec || !desired) return current;
  const spec: Record<string, unknown> = { ...current.spec };
  for (const f of UNROLLED_SPEC_FIELDS) spec[f] = desired[f];
  spec.class = { ...current.spec.class, kind: desired.class.kind };
  return { ...current, spec: spec as typeof current.spec };
}

/** Brings the non-rolling template fields, minReadySeconds and the revision of the current set up to date. */
async function syncExistingSet(
  d: DeploymentObject,
  set: SetObject,
  revision: string,
  deps: DeployDeps,
): Promise<SetObject> {
  const meta = set.metadata ?? {};
  const rest = { ...set.spec };
  delete rest.minReadySeconds;
  const minReady = d.spec?.minReadySeconds;
  const after: SetObject = {
    ...set,
    metadata: { ...meta, annotations: { ...meta.annotations, [Annotations.revision]: revision } },
    spec: {
      ...rest,
      ...(minReady !== undefined ? { minReadySeconds: minReady } : {}),
      template: unrolledSynced(d, set),
    },
  };
  return patchObject(deps.client, MachineResources.machineSets, set, after);
}
