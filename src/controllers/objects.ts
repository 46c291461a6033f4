import type { Machine } from "../api/v1alpha1/machine.ts";
import type { MachineClass } from "../api/v1alpha1/machineclass.ts";
import type { MachineDeployment } from "../api/v1alpha1/machinedeployment.ts";
import type { MachineSet } from "../api/v1alpha1/machineset.ts";
import type { KubeObject } from "../runtime/client/client.ts";

/** The machine.sapcloud.io kinds as the controllers' informers and clients hold them. */
export type MachineObject = Machine & KubeObject;
export type MachineSetObject = MachineSet & KubeObject;
export type DeploymentObject = MachineDeployment & KubeObject;
export type ClassObject = MachineClass & KubeObject;

/** A Secret as the controllers read it: its data and its finalizers. */
export type SecretObject = KubeObject & {
  data?: Record<string, string>;
  metadata?: KubeObject["metadata"] & { finalizers?: string[] };
};
