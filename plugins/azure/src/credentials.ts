import { MachineError, type SecretData } from "sprout/driver";

/**
 * Secret keys the Azure provider reads, Gardener's names first and the deprecated azure* aliases
 * after them. workloadIdentityTokenFile names a projected token file and excludes clientSecret.
 */
export const AzureSecretKeys = {
  clientID: ["clientID", "azureClientId"],
  clientSecret: ["clientSecret", "azureClientSecret"],
  subscriptionID: ["subscriptionID", "azureSubscriptionId"],
  tenantID: ["tenantID", "azureTenantId"],
  workloadIdentityTokenFile: ["workloadIdentityTokenFile"],
} as const;

export interface AzureCredentials {
  readonly clientID: string;
  readonly tenantID: string;
  readonly subscriptionID: string;
  /** Exactly one of clientSecret and workloadIdentityTokenFile. */
  readonly clientSecret?: string;
  readonly workloadIdentityTokenFile?: string;
}

const read = (secret: SecretData, keys: readonly string[]): string | undefined => {
  for (const k of keys) {
    const v = secret[k]?.toString().trim();
    if (v) return v;
  }
  return undefined;
};

/** The credentials of a MachineClass Secret; InvalidArgument naming every missing or clashing key. */
export function credentialsOf(secret: SecretData): AzureCredentials {
  const k = AzureSecretKeys;
  const clientID = read(secret, k.clientID);
  const tenantID = read(secret, k.tenantID);
  const subscriptionID = read(secret, k.subscriptionID);
  const clientSecret = read(secret, k.clientSecret);
  const workloadIdentityTokenFile = read(secret, k.workloadIdentityTokenFile);
  const named = (keys: readonly string[]) => (keys.length > 1 ? `${keys[0]} (or ${keys[1]})` : `${keys[0]}`);
  const problems = [
    clientID ? undefined : `${named(k.clientID)} is required`,
    tenantID ? undefined : `${named(k.tenantID)} is required`,
    subscriptionID ? undefined : `${named(k.subscriptionID)} is required`,
    clientSecret || workloadIdentityTokenFile
      ? undefined
      : `${named(k.clientSecret)} or ${k.workloadIdentityTokenFile[0]} is required`,
    clientSecret && workloadIdentityTokenFile
      ? `${k.clientSecret[0]} and ${k.workloadIdentityTokenFile[0]} are mutually exclusive`
      : undefined,
  ].filter((p) => p !== undefined);
  if (problems.length > 0 || !clientID || !tenantID || !subscriptionID) {
    throw new MachineError(
      "InvalidArgument",
      `the MachineClass Secret (secretRef/credentialsSecretRef): ${problems.join("; ")}`,
    );
  }
  return {
    clientID,
    tenantID,
    subscriptionID,
    ...(clientSecret ? { clientSecret } : {}),
    ...(workloadIdentityTokenFile ? { workloadIdentityTokenFile } : {}),
  };
}
