import { API_VERSION } from "../../api/constants.ts";
import type { ObjectMeta, OwnerReference } from "../../api/v1alpha1/object.ts";

interface Owned {
  metadata?: ObjectMeta;
}

/** The owner reference with controller: true, if any. */
export const controllerRefOf = (obj: Owned): OwnerReference | undefined =>
  obj.metadata?.ownerReferences?.find((r) => r.controller === true);

/** A controller owner reference to a machine.sapcloud.io object. */
export function controllerRefTo(kind: string, owner: Owned): OwnerReference {
  return {
    apiVersion: API_VERSION,
    kind,
    name: owner.metadata?.name ?? "",
    uid: owner.metadata?.uid ?? "",
    controller: true,
    blockOwnerDeletion: true,
  };
}

/** The namespace/name key of the object's controller of the given kind, if any. */
export function controllerKeyOf(obj: Owned, kind: string): string | undefined {
  const ref = controllerRefOf(obj);
  return ref?.kind === kind ? `${obj.metadata?.namespace ?? ""}/${ref.name}` : undefined;
}

/** Runs fn over items with at most `limit` calls in flight; collects every outcome. */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<R>,
): Promise<PromiseSettledResult<R>[]> {
  const out: PromiseSettledResult<R>[] = new Array<PromiseSettledResult<R>>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      try {
        out[i] = { status: "fulfilled", value: await fn(items[i] as T) };
      } catch (reason) {
        out[i] = { status: "rejected", reason };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

/** An int-or-percent value (maxSurge, maxUnavailable, maxReplacements) resolved against a total. */
export function resolveIntOrPercent(
  value: number | string | undefined,
  total: number,
  roundUp: boolean,
  fallback: number | string,
): number {
  const v = value ?? fallback;
  if (typeof v === "number") return v;
  const m = /^(\d+)%$/.exec(v);
  if (!m) return Number.parseInt(v, 10) || 0;
  const exact = (Number(m[1]) * total) / 100;
  return roundUp ? Math.ceil(exact) : Math.floor(exact);
}
