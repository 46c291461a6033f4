import { Type } from "@sinclair/typebox";

/** apiVersion, kind and metadata of every object (metadata's schema is the apiserver's own). */
export const objectHeader = {
  apiVersion: Type.Optional(Type.String({ description: "APIVersion: machine.sapcloud.io/v1alpha1." })),
  kind: Type.Optional(Type.String({ description: "Kind of the object." })),
  // The apiserver owns metadata's schema: a CRD may only say it is an object.
  metadata: Type.Optional(Type.Unsafe<ObjectMeta>({ type: "object" })),
};

/** The parts of metav1.ObjectMeta sprout reads and writes. */
export type ObjectMeta = {
  name?: string;
  generateName?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  deletionGracePeriodSeconds?: number;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  finalizers?: string[];
  ownerReferences?: OwnerReference[];
};

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}
