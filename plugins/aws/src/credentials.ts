import { MachineError, type SecretData } from "sprout/driver";

/**
 * Secret keys the AWS provider reads: Gardener's names, in the order Gardener prefers them
 * (providerAccessKeyId before accessKeyID). userData is the key the controller renders.
 */
export const AwsSecretKeys = {
  accessKeyId: "providerAccessKeyId",
  secretAccessKey: "providerSecretAccessKey",
  alternativeAccessKeyId: "accessKeyID",
  alternativeSecretAccessKey: "secretAccessKey",
} as const;

export interface AwsCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

const read = (secret: SecretData, key: string): string | undefined => {
  const v = secret[key]?.toString().trim();
  return v ? v : undefined;
};

/** The static credentials of a MachineClass Secret; InvalidArgument naming the keys when absent. */
export function credentialsOf(secret: SecretData): AwsCredentials {
  const k = AwsSecretKeys;
  const accessKeyId = read(secret, k.accessKeyId) ?? read(secret, k.alternativeAccessKeyId);
  const secretAccessKey = read(secret, k.secretAccessKey) ?? read(secret, k.alternativeSecretAccessKey);
  const missing = [
    accessKeyId ? undefined : `${k.accessKeyId} (or ${k.alternativeAccessKeyId})`,
    secretAccessKey ? undefined : `${k.secretAccessKey} (or ${k.alternativeSecretAccessKey})`,
  ].filter((m) => m !== undefined);
  if (!accessKeyId || !secretAccessKey) {
    throw new MachineError(
      "InvalidArgument",
      `the MachineClass Secret (secretRef/credentialsSecretRef) lacks ${missing.join(" and ")}`,
    );
  }
  return { accessKeyId, secretAccessKey };
}
