import type { MachineClass } from "../api/v1alpha1/machineclass.ts";
import type { SecretData } from "./driver.ts";
import { MachineError } from "./errors.ts";

/** A Secret as a lookup returns it: base64 data. */
export interface SecretLike {
  readonly data?: Readonly<Record<string, string>>;
}

/**
 * A MachineClass's Secret data as the driver gets it: secretRef's keys overlaid with
 * credentialsSecretRef's. `find` looks a Secret up by `namespace/name`; a referenced Secret that
 * does not exist is a MachineError NotFound naming it.
 */
export function classSecretData(
  machineClass: MachineClass,
  namespace: string,
  find: (key: string) => SecretLike | undefined,
): SecretData {
  const data: Record<string, Buffer> = {};
  for (const ref of [machineClass.secretRef, machineClass.credentialsSecretRef]) {
    if (!ref?.name) continue;
    const key = `${ref.namespace ?? namespace}/${ref.name}`;
    const secret = find(key);
    if (!secret) {
      throw new MachineError(
        "NotFound",
        `Secret ${key} referenced by MachineClass ${machineClass.metadata?.name ?? ""} does not exist`,
      );
    }
    for (const [k, v] of Object.entries(secret.data ?? {})) data[k] = Buffer.from(v, "base64");
  }
  return data;
}
