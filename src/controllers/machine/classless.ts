import { Labels } from "../../api/constants.ts";
import type { Machine } from "../../api/v1alpha1/machine.ts";
import type { Driver } from "../../driver/driver.ts";
import { MachineError } from "../../driver/errors.ts";
import type { MachineWork } from "./context.ts";

/** Told on a deleting machine whose class or Secret is gone. */
export const FORCE_DELETION_HINT = `label the Machine ${Labels.forceDeletion}=true to finish its deletion without deleting its VM`;

/**
 * The deletion of a machine whose MachineClass or Secret is gone (deleted past its finalizer, or
 * before sprout ran): no driver can reach its VM. Unless the machine is labelled
 * force-deletion=true it waits (its status names the missing object and the label); with the
 * label it finishes without the VM, which the DeleteVM step reports as left at the provider.
 */
export function classlessDeletion(machine: Machine, signal: AbortSignal): MachineWork | undefined {
  if (machine.metadata?.labels?.[Labels.forceDeletion] !== "true") return undefined;
  const reason = "its MachineClass or Secret is not available";
  const unreachable = (): Promise<never> => Promise.reject(new MachineError("Unimplemented", reason));
  const driver: Driver = {
    createMachine: unreachable,
    initializeMachine: unreachable,
    deleteMachine: unreachable,
    getMachineStatus: unreachable,
    listMachines: unreachable,
    getVolumeIDs: unreachable,
  };
  return {
    machine,
    machineClass: { metadata: { name: machine.spec?.class?.name ?? "" }, provider: "", providerSpec: {} },
    secret: {},
    driver,
    signal,
    vmUnreachable: reason,
  };
}
