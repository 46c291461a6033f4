import { type NodeObject } from "../../api/core.ts";
import { Labels } from "../../api/constants.ts";
import type { Machine } from "../../api/v1alpha1/machine.ts";
import type { KubeClient } from "../../runtime/client/client.ts";
import { KubeApiError } from "../../runtime/client/raw.ts";
import { Resources } from "../../runtime/client/resources.ts";
import { evictDeadlineOf } from "./config.ts";
import type { StepOutcome } from "./step-outcome.ts";
import type { FlowDeps } from "./deps.ts";
import { type Pod, usesVolumes, volumeState } from "./volumes.ts";

/** How long a node may be NotReady or have a read-only filesystem before its drain is forced. */
const UNHEALTHY_FORCE_MS = 5 * 60_000;

/**
 * One pass of a non-blocking drain: cordon, evict what is left (the Eviction API honours PDBs), and
 * come back later while pods remain; DaemonSet and mirror pods stay. The drain is forced (pods
 * deleted at once, then VolumeAttachments removed) after the drain timeout (or maxEvictRetries × 20 s
 * when that is shorter), when the machine carries
 * force-deletion=true, or when the node has been NotReady or read-only for 5 minutes.
 */
export async function drainStep(machine: Machine, deps: FlowDeps): Promise<StepOutcome> {
  const nodeName = machine.metadata?.labels?.[Labels.node] ?? "";
  const node = deps.nodes?.store.get(nodeName);
  const target = deps.target;
  if (!target || !node) return { next: "DeleteVM" };
  const force = forced(machine, node, deps);
  const pods = await cordonAndList(target, node);
  if (force) {
    await Promise.all(
      pods.map((pod) =>
        target.delete(Resources.pods, pod.metadata?.namespace, pod.metadata?.name ?? "", {
          gracePeriodSeconds: 0,
        }),
      ),
    );
    return { next: "DeleteVolumeAttachments", note: `Drain forced: ${pods.length} pod(s) deleted` };
  }
  const volumes = await volumeState(target, node.metadata?.name ?? "", pods);
  if (pods.length === 0 && volumes.detaching.length === 0)
    return { next: "DeleteVM", note: "Drain successful" };
  // Pods without volumes leave together; pods with volumes one at a time.
  const now = [...pods.filter((p) => !usesVolumes(p)), ...(volumes.next ? [volumes.next] : [])];
  const blocked = await evictAll(deps, now);
  return { retryAfter: deps.config.shortRetryMs, note: waitingNote(pods.length, blocked, volumes.detaching) };
}

function waitingNote(pods: number, blocked: number, detaching: readonly string[]): string {
  const why = [
    blocked > 0 ? `${blocked} blocked by a PodDisruptionBudget` : "",
    detaching.length > 0 ? `waiting for volume(s) ${detaching.join(", ")} to detach` : "",
  ].filter(Boolean);
  return `waiting for ${pods} pod(s) to leave${why.length > 0 ? `; ${why.join("; ")}` : ""}`;
}

/** Cordons the node and lists the pods a drain must move (not DaemonSet or mirror pods). */
async function cordonAndList(target: KubeClient, node: NodeObject): Promise<Pod[]> {
  const nodeName = node.metadata?.name ?? "";
  if (!node.spec?.unschedulable)
    await target.patch(Resources.nodes, undefined, nodeName, { spec: { unschedulable: true } });
  const listed = await target.list<Pod>(Resources.pods, undefined, {
    fieldSelector: `spec.nodeName=${nodeName}`,
  });
  return listed.items.filter(evictable);
}

/** Evicts every pod not yet terminating; returns how many a PodDisruptionBudget refused (429). */
async function evictAll(deps: FlowDeps, pods: readonly Pod[]): Promise<number> {
  const outcomes = await Promise.all(
    pods
      .filter((p) => !p.metadata?.deletionTimestamp)
      .map((pod) =>
        evict(deps, pod).then(
          () => 0,
          (err: unknown) => {
            const code = err instanceof KubeApiError ? err.code : 0;
            if (code === 429) return 1;
            if (code === 404) return 0;
            throw err;
          },
        ),
      ),
  );
  return outcomes.reduce((a, b) => a + b, 0);
}

function evictable(pod: Pod): boolean {
  const meta = pod.metadata ?? {};
  if (meta.annotations?.["kubernetes.io/config.mirror"]) return false;
  return !(meta.ownerReferences ?? []).some((o) => o.controller && o.kind === "DaemonSet");
}

function forced(machine: Machine, node: NodeObject, deps: FlowDeps): boolean {
  const now = deps.clock.now();
  if (machine.metadata?.labels?.[Labels.forceDeletion] === "true") return true;
  const deleting = Date.parse(machine.metadata?.deletionTimestamp ?? "");
  if (deleting && now - deleting > evictDeadlineOf(machine, deps.config)) return true;
  return (node.status?.conditions ?? []).some((c) => {
    const bad =
      (c.type === "Ready" && c.status !== "True") || (c.type === "ReadonlyFilesystem" && c.status === "True");
    return bad && now - Date.parse(c.lastTransitionTime ?? "") > UNHEALTHY_FORCE_MS;
  });
}

async function evict(deps: FlowDeps, pod: Pod): Promise<void> {
  const { namespace = "", name = "" } = pod.metadata ?? {};
  await deps.target?.request("create", "pods/eviction", {
    method: "POST",
    path: `/api/v1/namespaces/${namespace}/pods/${name}/eviction`,
    body: { apiVersion: "policy/v1", kind: "Eviction", metadata: { name, namespace } },
  });
}
