import { randomInt } from "node:crypto";
import { Annotations, Labels } from "../../api/constants.ts";
import type { Machine } from "../../api/v1alpha1/machine.ts";
import { isConflict, type KubeClient } from "../../runtime/client/client.ts";
import { Resources } from "../../runtime/client/resources.ts";

/** The bootstrap token alphabet of Kubernetes ([a-z0-9]) for both the id and the secret. */
const ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyz";
const NAMESPACE = "kube-system";
/** New ids tried before giving up; with 36^6 ids a second attempt is already rare. */
const ID_ATTEMPTS = 8;

const randomString = (length: number): string =>
  Array.from({ length }, () => ALPHABET[randomInt(ALPHABET.length)]).join("");

/** A random 6-character token id. */
export const randomTokenId = (): string => randomString(6);

/** The id part of "<id>.<secret>". */
export const tokenIdOf = (token: string): string => token.split(".")[0] ?? "";

const secretName = (id: string): string => `bootstrap-token-${id}`;

/** Who a token is for: its Secret is labelled with the uid, its id recorded on the Machine. */
export interface TokenOwner {
  readonly name: string;
  readonly uid: string;
  /** The id recorded on the Machine by an earlier attempt, if any. */
  readonly tokenId?: string | undefined;
}

export function tokenOwnerOf(machine: Machine): TokenOwner {
  const meta = machine.metadata ?? {};
  return {
    name: meta.name ?? "",
    uid: meta.uid ?? "",
    tokenId: meta.annotations?.[Annotations.bootstrapTokenId],
  };
}

/** What the token functions need of a client (a KubeClient of the target cluster). */
export type TokenClient = Pick<KubeClient, "find" | "create" | "list" | "delete">;

type TokenSecret = {
  metadata?: { name?: string; uid?: string; labels?: Record<string, string> };
  data?: Record<string, string>;
};

const isOwnedBy = (s: TokenSecret | undefined, owner: TokenOwner): s is TokenSecret =>
  s?.metadata?.labels?.[Labels.bootstrapTokenOwner] === owner.uid;

const tokenOf = (s: TokenSecret): string | undefined => {
  const id = s.data?.["token-id"];
  const secret = s.data?.["token-secret"];
  if (!id || !secret) return undefined;
  return `${Buffer.from(id, "base64").toString()}.${Buffer.from(secret, "base64").toString()}`;
};

/**
 * The owner's token Secrets: by the recorded id (the id is recorded only after its Secret was
 * created, so a recorded id without a Secret means the token is gone), else by the owner label
 * (an attempt whose Machine write was lost).
 */
async function ownedSecrets(target: TokenClient, owner: TokenOwner): Promise<TokenSecret[]> {
  if (owner.tokenId) {
    const s = await target.find<TokenSecret>(Resources.secrets, NAMESPACE, secretName(owner.tokenId));
    return isOwnedBy(s, owner) ? [s] : [];
  }
  if (!owner.uid) return [];
  const selector = `${Labels.bootstrapTokenOwner}=${owner.uid}`;
  return (await target.list<TokenSecret>(Resources.secrets, NAMESPACE, { labelSelector: selector })).items;
}

/**
 * Gets or creates the owner's bootstrap-token Secret in the target's kube-system, valid for the
 * creation timeout, and returns "<id>.<secret>" for <<BOOTSTRAP_TOKEN>>. The id is random; an id
 * already taken (AlreadyExists) is replaced by another. The Secret carries the owner's uid, so an
 * attempt whose Machine write was lost finds and reuses it instead of leaving a second token.
 */
export async function ensureBootstrapToken(
  target: TokenClient,
  owner: TokenOwner,
  validForMs: number,
  extraGroups: string,
  now: number,
  newId: () => string = randomTokenId,
): Promise<string> {
  for (const s of await ownedSecrets(target, owner)) {
    const token = tokenOf(s);
    if (token) return token;
  }
  const secret = randomString(16);
  for (let attempt = 1; ; attempt++) {
    const id = attempt === 1 && owner.tokenId ? owner.tokenId : newId();
    try {
      await target.create(Resources.secrets, {
        apiVersion: "v1",
        kind: "Secret",
        type: "bootstrap.kubernetes.io/token",
        metadata: {
          name: secretName(id),
          namespace: NAMESPACE,
          labels: { [Labels.bootstrapTokenOwner]: owner.uid },
        },
        stringData: {
          "token-id": id,
          "token-secret": secret,
          expiration: new Date(now + validForMs).toISOString().replace(/\.\d+Z$/, "Z"),
          "usage-bootstrap-authentication": "true",
          "usage-bootstrap-signing": "true",
          description: `bootstrap token of machine ${owner.name}`,
          ...(extraGroups ? { "auth-extra-groups": extraGroups } : {}),
        },
      });
      return `${id}.${secret}`;
    } catch (err) {
      if (!isConflict(err) || attempt >= ID_ATTEMPTS) throw err;
    }
  }
}

/** Deletes the owner's token Secret(s), if any; a token of another owner is never touched. */
export async function deleteBootstrapToken(target: TokenClient, owner: TokenOwner): Promise<void> {
  for (const s of await ownedSecrets(target, owner)) {
    const uid = s.metadata?.uid;
    await target.delete(Resources.secrets, NAMESPACE, s.metadata?.name ?? "", uid ? { uid } : {});
  }
}
