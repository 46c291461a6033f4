import type { Result } from "./controller.ts";

/**
 * What one reconcile works on: `draft` starts as the object read (a copy may be made freely) and
 * the phases change it; kinds add what else they read (owned objects, class, driver) to their
 * scope.
 */
export interface Scope<T> {
  draft: T;
}

/**
 * What a phase asks for: nothing (go on), a look again after `requeueAfter` (the shortest asked
 * for wins), and/or `stop` (skip the phases after it; the draft is still written).
 */
export type PhaseResult = undefined | { readonly requeueAfter?: number; readonly stop?: boolean };

export type Phase<S> = (scope: S) => Promise<PhaseResult> | PhaseResult;

/**
 * The one reconcile shape of the machine.sapcloud.io controllers (cluster-api's): run the phases in
 * order over the scope, then write the draft once with `write` — on every path, also when a phase
 * threw (the phase's error is what the runtime sees and backs off on; a failing write after it is
 * dropped, the next reconcile retries it).
 */
export async function runPhases<S extends Scope<unknown>>(
  scope: S,
  phases: readonly Phase<S>[],
  write: (draft: S["draft"]) => Promise<unknown>,
): Promise<Result> {
  let requeueAfter: number | undefined;
  try {
    for (const phase of phases) {
      const r = await phase(scope);
      if (r?.requeueAfter !== undefined) requeueAfter = Math.min(requeueAfter ?? Infinity, r.requeueAfter);
      if (r?.stop) break;
    }
  } catch (err) {
    await write(scope.draft).catch(() => undefined);
    throw err;
  }
  await write(scope.draft);
  return requeueAfter === undefined ? undefined : { requeueAfter };
}
