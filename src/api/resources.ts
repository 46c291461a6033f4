import { GROUP, VERSION } from "./constants.ts";

/** REST coordinates of the machine.sapcloud.io kinds (the shape of the runtime's ResourceRef). */
const ref = (plural: string, kind: string) =>
  ({ group: GROUP, version: VERSION, plural, kind, namespaced: true }) as const;

export const MachineResources = {
  machines: ref("machines", "Machine"),
  machineSets: ref("machinesets", "MachineSet"),
  machineDeployments: ref("machinedeployments", "MachineDeployment"),
  machineClasses: ref("machineclasses", "MachineClass"),
} as const;
