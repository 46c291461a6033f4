import type { ObjectMeta } from "./v1alpha1/object.ts";

/** A Node of the target cluster (core/v1), as far as sprout reads and writes it. */
export interface NodeObject {
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMeta;
  spec?: {
    providerID?: string;
    unschedulable?: boolean;
    taints?: { key: string; effect: string; value?: string }[];
  };
  status?: {
    conditions?: {
      type: string;
      status: string;
      reason?: string;
      message?: string;
      lastTransitionTime?: string;
    }[];
  };
  [key: string]: unknown;
}
