/** The public API module for plugins: types and constants of machine.sapcloud.io/v1alpha1. */
export * from "./constants.ts";
export type { Machine } from "./v1alpha1/machine.ts";
export type { MachineClass } from "./v1alpha1/machineclass.ts";
export type { MachineDeployment } from "./v1alpha1/machinedeployment.ts";
export type { MachineSet } from "./v1alpha1/machineset.ts";
export type { LastOperation, MachineSpec } from "./v1alpha1/shared.ts";
export type { ObjectMeta } from "./v1alpha1/object.ts";
