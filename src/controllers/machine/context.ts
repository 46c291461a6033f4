import type { Machine } from "../../api/v1alpha1/machine.ts";
import type { MachineClass } from "../../api/v1alpha1/machineclass.ts";
import type { Driver, SecretData } from "../../driver/driver.ts";
import { classSecretData } from "../../driver/class-secret.ts";
import { MachineError } from "../../driver/errors.ts";
import type { DriverRegistry } from "../../driver/registry.ts";
import type { Informer } from "../../runtime/cache/informer.ts";
import type { KubeObject } from "../../runtime/client/client.ts";

import type { SecretObject } from "../objects.ts";

export type { SecretObject };

/** What every step of a machine's reconcile works with. */
export interface MachineWork {
  readonly machine: Machine;
  readonly machineClass: MachineClass;
  readonly secret: SecretData;
  readonly driver: Driver;
  /** The reconcile's signal, handed to every driver call (the registry adds the call's deadline). */
  readonly signal: AbortSignal;
  /** Set when no driver can reach the VM (class gone, force-deletion asked): why. */
  readonly vmUnreachable?: string;
}

/**
 * Resolves a machine's class, its merged Secret data (secretRef overlaid by credentialsSecretRef)
 * and the driver the class's provider names. Problems are MachineErrors whose message names what to
 * fix; the caller reports them on the Machine.
 */
export async function resolveWork(
  machine: Machine,
  classes: Informer<MachineClass & KubeObject>,
  secrets: Informer<SecretObject>,
  registry: DriverRegistry,
  signal: AbortSignal,
): Promise<MachineWork> {
  const ns = machine.metadata?.namespace ?? "";
  const className = machine.spec?.class?.name;
  if (!className) {
    throw new MachineError(
      "InvalidArgument",
      "spec.class.name is missing: the Machine names no MachineClass",
    );
  }
  const machineClass = classes.store.get(`${ns}/${className}`);
  if (!machineClass) {
    throw new MachineError("NotFound", `MachineClass ${ns}/${className} (spec.class.name) does not exist`);
  }
  const data = classSecretData(machineClass, ns, (key) => secrets.store.get(key));
  const driver = await registry.driverFor(machineClass.provider);
  return { machine, machineClass, secret: data, driver, signal };
}
