import type { KubeClient, KubeObject } from "../../runtime/client/client.ts";
import { Resources } from "../../runtime/client/resources.ts";

export type Pod = {
  metadata?: {
    name?: string;
    namespace?: string;
    deletionTimestamp?: string;
    annotations?: Record<string, string>;
    ownerReferences?: { kind: string; controller?: boolean }[];
  };
  spec?: { priority?: number; volumes?: { persistentVolumeClaim?: { claimName: string } }[] };
};

type Claim = KubeObject & { spec?: { volumeName?: string } };
type Attachment = KubeObject & { spec?: { nodeName?: string; source?: { persistentVolumeName?: string } } };

export const usesVolumes = (pod: Pod): boolean =>
  (pod.spec?.volumes ?? []).some((v) => v.persistentVolumeClaim);

/** Names of the PersistentVolumes a pod mounts through its claims. */
async function volumesOf(target: KubeClient, pod: Pod): Promise<string[]> {
  const names: string[] = [];
  for (const v of pod.spec?.volumes ?? []) {
    if (!v.persistentVolumeClaim) continue;
    const claim = await target.find<Claim>(
      Resources.persistentVolumeClaims,
      pod.metadata?.namespace,
      v.persistentVolumeClaim.claimName,
    );
    if (claim?.spec?.volumeName) names.push(claim.spec.volumeName);
  }
  return names;
}

export interface VolumeState {
  /** Attached to the node (VolumeAttachments) but used by no pod left on it: still detaching. */
  readonly detaching: readonly string[];
  /** The next pod with volumes to evict, when none is leaving and nothing is detaching. */
  readonly next: Pod | undefined;
}

/**
 * Pods with volumes leave one at a time (highest priority first): the next is evicted only once the
 * previous one is gone and its volumes' VolumeAttachments have left the node.
 */
export async function volumeState(
  target: KubeClient,
  nodeName: string,
  pods: readonly Pod[],
): Promise<VolumeState> {
  const withVolumes = pods.filter(usesVolumes);
  const attachments = await target.list<Attachment>(Resources.volumeAttachments);
  const attached = attachments.items
    .filter((a) => a.spec?.nodeName === nodeName)
    .map((a) => a.spec?.source?.persistentVolumeName ?? "")
    .filter(Boolean);
  const inUse = new Set((await Promise.all(withVolumes.map((p) => volumesOf(target, p)))).flat());
  const detaching = attached.filter((pv) => !inUse.has(pv));
  const leaving = withVolumes.some((p) => p.metadata?.deletionTimestamp);
  const next =
    leaving || detaching.length > 0
      ? undefined
      : [...withVolumes].sort((a, b) => (b.spec?.priority ?? 0) - (a.spec?.priority ?? 0))[0];
  return { detaching, next };
}
