import { controllerRefOf, controllerRefTo } from "../../runtime/meta/owners.ts";
import { API_VERSION, UNROLLED_SPEC_FIELDS } from "../../api/constants.ts";
import { MachineResources } from "../../api/resources.ts";
import type { Machine } from "../../api/v1alpha1/machine.ts";
import type { MachineSet } from "../../api/v1alpha1/machineset.ts";
import type { OwnerReference } from "../../api/v1alpha1/object.ts";
import { mergePatch, patchObject } from "../../runtime/client/patch.ts";
import { selectorMatches } from "../../runtime/selector.ts";
import type { SetDeps } from "./deps.ts";

async function patchOwners(m: Machine, owners: OwnerReference[], deps: SetDeps): Promise<Machine> {
  const meta = { ...m.metadata };
  if (owners.length > 0) meta.ownerReferences = owners;
  else delete meta.ownerReferences;
  return patchObject(deps.client, MachineResources.machines, m, { ...m, metadata: meta });
}

type Claim = "owned" | "release" | "orphan" | "other";

function claimOf(set: MachineSet, m: Machine): Claim {
  const ref = controllerRefOf(m);
  const matches = selectorMatches(set.spec?.selector, m.metadata?.labels);
  if (ref) {
    if (ref.uid !== set.metadata?.uid) return "other";
    return matches || set.metadata?.deletionTimestamp ? "owned" : "release";
  }
  return matches && !m.metadata?.deletionTimestamp ? "orphan" : "other";
}

/** The set as the apiserver has it now is the same set and not being deleted. */
async function stillLive(set: MachineSet, deps: SetDeps): Promise<boolean> {
  const meta = set.metadata ?? {};
  const fresh = await deps.client.get<MachineSet>(
    MachineResources.machineSets,
    meta.namespace,
    meta.name ?? "",
  );
  return fresh.metadata?.uid === meta.uid && !fresh.metadata?.deletionTimestamp;
}

/**
 * The machines a set owns, after adopting orphans its selector matches and releasing owned ones it
 * no longer matches (ReplicaSet's ControllerRefManager). Adoption re-reads the set from the
 * apiserver first, so a set being deleted never adopts.
 */
export async function claimMachines(
  set: MachineSet,
  machines: readonly Machine[],
  deps: SetDeps,
): Promise<Machine[]> {
  const owned: Machine[] = [];
  const orphans: Machine[] = [];
  for (const m of machines) {
    const claim = claimOf(set, m);
    if (claim === "owned") owned.push(m);
    else if (claim === "orphan") orphans.push(m);
    else if (claim === "release") await release(m, set, deps);
  }
  if (orphans.length === 0 || set.metadata?.deletionTimestamp || !(await stillLive(set, deps))) return owned;
  for (const m of orphans) {
    const owners = [...(m.metadata?.ownerReferences ?? []), controllerRefTo(API_VERSION, "MachineSet", set)];
    owned.push(await patchOwners(m, owners, deps));
  }
  return owned;
}

async function release(m: Machine, set: MachineSet, deps: SetDeps): Promise<void> {
  const owners = (m.metadata?.ownerReferences ?? []).filter((r) => r.uid !== set.metadata?.uid);
  await patchOwners(m, owners, deps);
}

/**
 * Copies the template's node template, machine configuration and class kind to machines that
 * differ, so node labels, annotations and taints follow the template without replacing machines.
 */
export async function propagateTemplate(
  set: MachineSet,
  machines: readonly Machine[],
  deps: SetDeps,
): Promise<Machine[]> {
  const spec = set.spec?.template?.spec;
  if (!spec) return [...machines];
  return Promise.all(
    machines.map(async (m) => {
      if (m.metadata?.deletionTimestamp) return m;
      const before: Record<string, unknown> = { classKind: m.spec.class.kind };
      const after: Record<string, unknown> = { classKind: spec.class.kind };
      for (const f of UNROLLED_SPEC_FIELDS) {
        before[f] = m.spec[f];
        after[f] = spec[f];
      }
      if (mergePatch(before, after) === undefined) return m;
      const next = { ...m.spec, class: { ...m.spec.class, kind: spec.class.kind } };
      for (const f of UNROLLED_SPEC_FIELDS) (next as Record<string, unknown>)[f] = spec[f];
      // The template's fields belong to the set: no lock against the machine controller's writes.
      return patchObject(
        deps.client,
        MachineResources.machines,
        m,
        { ...m, spec: next },
        { optimisticLock: false },
      );
    }),
  );
}
