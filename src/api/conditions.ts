import { timestamp } from "./time.ts";

/** What every condition of the machine.sapcloud.io kinds has. */
export interface ConditionFields {
  readonly type: string;
  readonly status: string;
  readonly lastTransitionTime?: string;
}

/**
 * The conditions with `next` in place of the one of its type (or appended): lastTransitionTime is
 * kept while the status stays what it was, and is `now` when it changes or the condition is new.
 */
export function upsertCondition<C extends ConditionFields>(
  list: readonly C[] | undefined,
  next: Omit<C, "lastTransitionTime">,
  now: number,
): C[] {
  const out = [...(list ?? [])];
  const i = out.findIndex((c) => c.type === next.type);
  const old = i >= 0 ? out[i] : undefined;
  const lastTransitionTime =
    (old?.status === next.status ? old.lastTransitionTime : undefined) ?? timestamp(now);
  const merged = { ...next, lastTransitionTime } as C;
  if (i >= 0) out[i] = merged;
  else out.push(merged);
  return out;
}
