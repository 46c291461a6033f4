import { createHash, randomInt } from "node:crypto";
import { isConflict, type KubeClient } from "../../runtime/client/client.ts";
import { Resources } from "../../runtime/client/resources.ts";

const ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyz";

/** The bootstrap token id of a machine: 6 hex characters derived from its name (stable across retries). */
export function tokenIdOf(machineName: string): string {
  return createHash("sha256").update(machineName).digest("hex").slice(0, 6);
}

const secretName = (id: string): string => `bootstrap-token-${id}`;

type TokenSecret = { metadata?: { name?: string }; data?: Record<string, string> };

/**
 * Gets or creates the machine's bootstrap-token Secret in the target's kube-system, valid for the
 * creation timeout, and returns "<id>.<secret>" for <<BOOTSTRAP_TOKEN>>.
 */
export async function ensureBootstrapToken(
  target: KubeClient,
  machineName: string,
  validForMs: number,
  extraGroups: string,
  now: number,
): Promise<string> {
  const id = tokenIdOf(machineName);
  const existing = await target.find<TokenSecret>(Resources.secrets, "kube-system", secretName(id));
  const stored = existing?.data?.["token-secret"];
  if (stored) return `${id}.${Buffer.from(stored, "base64").toString()}`;
  const secret = Array.from({ length: 16 }, () => ALPHABET[randomInt(ALPHABET.length)]).join("");
  try {
    await target.create(Resources.secrets, {
      apiVersion: "v1",
      kind: "Secret",
      type: "bootstrap.kubernetes.io/token",
      metadata: { name: secretName(id), namespace: "kube-system" },
      stringData: {
        "token-id": id,
        "token-secret": secret,
        expiration: new Date(now + validForMs).toISOString().replace(/\.\d+Z$/, "Z"),
        "usage-bootstrap-authentication": "true",
        "usage-bootstrap-signing": "true",
        description: `bootstrap token of machine ${machineName}`,
        ...(extraGroups ? { "auth-extra-groups": extraGroups } : {}),
      },
    });
  } catch (err) {
    if (!isConflict(err)) throw err;
    // Created meanwhile by an earlier attempt: use that one.
    const raced = (await target.find<TokenSecret>(Resources.secrets, "kube-system", secretName(id)))?.data?.[
      "token-secret"
    ];
    if (!raced) throw err;
    return `${id}.${Buffer.from(raced, "base64").toString()}`;
  }
  return `${id}.${secret}`;
}

export async function deleteBootstrapToken(target: KubeClient, machineName: string): Promise<void> {
  await target.delete(Resources.secrets, "kube-system", secretName(tokenIdOf(machineName)));
}
