import { type NodeObject } from "../../api/core.ts";
import { Annotations, Labels } from "../../api/constants.ts";
import type { Machine } from "../../api/v1alpha1/machine.ts";
import { deepEqual } from "../../runtime/client/patch.ts";
import { Resources } from "../../runtime/client/resources.ts";
import type { FlowDeps } from "./deps.ts";

type Taint = NonNullable<NonNullable<NodeObject["spec"]>["taints"]>[number];

interface Applied {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  taints: Taint[];
}

function appliedOf(machine: Machine): Applied {
  const t = machine.spec.nodeTemplate;
  return {
    labels: { ...t?.metadata?.labels },
    annotations: { ...t?.metadata?.annotations },
    taints: (t?.spec?.taints ?? []).map((x) => ({
      key: x.key,
      effect: x.effect,
      ...(x.value ? { value: x.value } : {}),
    })),
  };
}

/** The last applied template from the Node's annotation (MCM writes {metadata, spec} JSON). */
function lastApplied(node: NodeObject): Applied {
  const raw = node.metadata?.annotations?.[Annotations.lastAppliedAnnoLabelsTaints];
  try {
    const v = JSON.parse(raw ?? "{}") as {
      metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> };
      spec?: { taints?: Taint[] };
    };
    return {
      labels: v.metadata?.labels ?? {},
      annotations: v.metadata?.annotations ?? {},
      taints: v.spec?.taints ?? [],
    };
  } catch {
    return { labels: {}, annotations: {}, taints: [] };
  }
}

function mapPatch(
  current: Record<string, string>,
  last: Record<string, string>,
  desired: Record<string, string>,
): Record<string, string | null> {
  const patch: Record<string, string | null> = {};
  for (const k of Object.keys(last)) if (!(k in desired) && k in current) patch[k] = null;
  for (const [k, v] of Object.entries(desired)) if (current[k] !== v) patch[k] = v;
  return patch;
}

const sameTaint = (a: Taint, b: Taint): boolean => a.key === b.key && a.effect === b.effect;

/** The Node's taints with the template's applied: others' taints kept, the template's old ones removed. */
function nextTaints(
  current: readonly Taint[],
  last: readonly Taint[],
  desired: readonly Taint[],
): { taints: Taint[]; taintsChanged: boolean } {
  const kept = current.filter(
    (t) => !last.some((l) => sameTaint(l, t)) && !desired.some((d) => sameTaint(d, t)),
  );
  const taints = [
    ...kept,
    ...desired.map((d) => current.find((c) => sameTaint(c, d) && c.value === d.value) ?? d),
  ];
  const order = (list: readonly Taint[]): Taint[] =>
    [...list].sort((a, b) => `${a.key}:${a.effect}`.localeCompare(`${b.key}:${b.effect}`));
  return { taints, taintsChanged: !deepEqual(order(current), order(taints)) };
}

/**
 * Keeps the Node's labels, annotations and taints in line with the machine's spec.nodeTemplate,
 * without replacing the machine: what the template had last time (recorded on the Node) and no
 * longer has is removed; what others put on the Node is left alone. The same write sets the
 * node.gardener.cloud/machine-name label, by which a Node finds its machine.
 */
export async function syncNodeTemplate(machine: Machine, node: NodeObject, deps: FlowDeps): Promise<void> {
  if (!deps.target) return;
  const meta = node.metadata ?? {};
  const desired = appliedOf(machine);
  const last = lastApplied(node);
  const annotationsNow = meta.annotations ?? {};
  const labels = mapPatch(meta.labels ?? {}, last.labels, {
    ...desired.labels,
    [Labels.nodeMachineName]: machine.metadata?.name ?? "",
  });
  const annotations = mapPatch(annotationsNow, last.annotations, desired.annotations);
  const record = JSON.stringify({
    metadata: { labels: desired.labels, annotations: desired.annotations },
    spec: { taints: desired.taints },
  });
  if (annotationsNow[Annotations.lastAppliedAnnoLabelsTaints] !== record) {
    annotations[Annotations.lastAppliedAnnoLabelsTaints] = record;
  }
  const { taints, taintsChanged } = nextTaints(node.spec?.taints ?? [], last.taints, desired.taints);
  if (Object.keys(labels).length + Object.keys(annotations).length === 0 && !taintsChanged) return;
  await deps.target.patch(Resources.nodes, undefined, meta.name ?? "", {
    // Taints are replaced whole: only then does a concurrent change have to fail the write.
    metadata: { labels, annotations, ...(taintsChanged ? { resourceVersion: meta.resourceVersion } : {}) },
    ...(taintsChanged ? { spec: { taints } } : {}),
  });
}
