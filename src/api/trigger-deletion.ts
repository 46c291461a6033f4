/** One entry of node.machine.sapcloud.io/trigger-deletion-by-mcm: a machine and when it was named. */
export interface TriggerDeletionEntry {
  readonly name: string;
  readonly time: string;
}

/** Parses `m1~T1,m2~T2`; an entry without a time (older autoscalers write bare names) gets `now`. */
export function parseTriggerDeletion(value: string, now: string): TriggerDeletionEntry[] {
  return value
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean)
    .map((s) => {
      const [name = "", time] = s.split("~");
      return { name: name.trim(), time: time?.trim() || now };
    })
    .filter((e) => e.name !== "");
}

/** `m1~T1,m2~T2`, sorted, as the cluster-autoscaler writes it. */
export const formatTriggerDeletion = (entries: readonly TriggerDeletionEntry[]): string =>
  entries
    .map((e) => `${e.name}~${e.time}`)
    .sort()
    .join(",");
