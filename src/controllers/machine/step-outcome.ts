import type { DeletionStep } from "../../api/constants.ts";

/** Outcome of one step: the next step, or a retry of this one after a delay. */
export type StepOutcome =
  | { readonly next: DeletionStep | "Done"; readonly note?: string }
  | { readonly retryAfter: number; readonly note: string };
