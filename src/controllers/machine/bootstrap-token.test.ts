import { describe, expect, it } from "vitest";
import type { KubeObject } from "../../runtime/client/client.ts";
import { KubeApiError } from "../../runtime/client/raw.ts";
import {
  deleteBootstrapToken,
  ensureBootstrapToken,
  randomTokenId,
  type TokenClient,
  tokenIdOf,
} from "./bootstrap-token.ts";

type Stored = KubeObject & {
  metadata: { name: string; uid: string; labels?: Record<string, string> };
  data: Record<string, string>;
};

/** kube-system Secrets in memory: create fails with AlreadyExists (409) like the apiserver. */
function memorySecrets() {
  const secrets = new Map<string, Stored>();
  let uids = 0;
  const client = {
    find: (_ref: unknown, _ns: unknown, name: string) => Promise.resolve(secrets.get(name)),
    list: (_ref: unknown, _ns: unknown, opts: { labelSelector?: string } = {}) => {
      const [key = "", value] = (opts.labelSelector ?? "").split("=");
      const items = [...secrets.values()].filter((s) => s.metadata.labels?.[key] === value);
      return Promise.resolve({ items });
    },
    create: (_ref: unknown, obj: KubeObject & { stringData?: Record<string, string> }) => {
      const name = obj.metadata?.name ?? "";
      if (secrets.has(name)) return Promise.reject(new KubeApiError(409, { reason: "AlreadyExists" }));
      const data = Object.fromEntries(
        Object.entries(obj.stringData ?? {}).map(([k, v]) => [k, Buffer.from(v).toString("base64")]),
      );
      const labels = (obj.metadata as { labels?: Record<string, string> }).labels ?? {};
      secrets.set(name, { metadata: { name, uid: `s${++uids}`, labels }, data });
      return Promise.resolve(obj);
    },
    delete: (_ref: unknown, _ns: unknown, name: string) => {
      secrets.delete(name);
      return Promise.resolve();
    },
  } as unknown as TokenClient;
  return { client, secrets };
}

const owner = (i: number, tokenId?: string) => ({ name: `machine-${i}`, uid: `uid-${i}`, tokenId });
const ensure = (client: TokenClient, o: ReturnType<typeof owner>, newId?: () => string) =>
  ensureBootstrapToken(client, o, 600_000, "", Date.parse("2026-01-01T00:00:00Z"), newId);

describe("bootstrap tokens", () => {
  it("gives 2 000 machines 2 000 distinct ids from [a-z0-9]{6}", async () => {
    const { client, secrets } = memorySecrets();
    const ids = new Set<string>();
    for (let i = 0; i < 2000; i++) ids.add(tokenIdOf(await ensure(client, owner(i))));
    expect(ids.size).toBe(2000);
    expect(secrets.size).toBe(2000);
    for (const id of ids) expect(id).toMatch(/^[a-z0-9]{6}$/);
  });

  it("draws ids from the whole alphabet", () => {
    const seen = new Set(Array.from({ length: 500 }, randomTokenId).join(""));
    expect(seen.size).toBe(36);
  });

  it("takes another id when one is taken (AlreadyExists)", async () => {
    const { client } = memorySecrets();
    const ids = ["aaaaaa", "aaaaaa", "aaaaaa", "bbbbbb"];
    const next = () => ids.shift() ?? "zzzzzz";
    expect(tokenIdOf(await ensure(client, owner(1), next))).toBe("aaaaaa");
    expect(tokenIdOf(await ensure(client, owner(2), next))).toBe("bbbbbb");
  });

  it("reuses the owner's token when the id was not recorded on the Machine (lost write)", async () => {
    const { client, secrets } = memorySecrets();
    const first = await ensure(client, owner(1));
    const again = await ensure(client, owner(1));
    expect(again).toBe(first);
    expect(secrets.size).toBe(1);
    expect(await ensure(client, owner(1, tokenIdOf(first)))).toBe(first);
  });

  it("deletes only the owner's token, found by id or by label", async () => {
    const { client, secrets } = memorySecrets();
    const mine = await ensure(client, owner(1));
    const other = await ensure(client, owner(2));
    // A recorded id whose Secret belongs to someone else is never deleted.
    await deleteBootstrapToken(client, owner(1, tokenIdOf(other)));
    expect(secrets.size).toBe(2);
    await deleteBootstrapToken(client, owner(1));
    expect([...secrets.keys()]).toEqual([`bootstrap-token-${tokenIdOf(other)}`]);
    await deleteBootstrapToken(client, owner(2, tokenIdOf(other)));
    expect(secrets.size).toBe(0);
    expect(mine).not.toBe(other);
  });
});
