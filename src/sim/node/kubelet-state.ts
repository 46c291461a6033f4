import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { KubeletState, NodeCredentials } from "./types.ts";

const FIELDS = ["server", "caPem", "certPem", "keyPem"] as const;

function parse(text: string): NodeCredentials | undefined {
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value !== "object" || value === null) return undefined;
    const record = value as Record<string, unknown>;
    if (!FIELDS.every((f) => typeof record[f] === "string" && record[f] !== "")) return undefined;
    return record as unknown as NodeCredentials;
  } catch {
    return undefined;
  }
}

/**
 * Simulated kubelets' client certificates in a folder, one file per VM (readable by the owner
 * only), so that the node simulator of a restarted `sprout start` finds the nodes that joined
 * before. A file that cannot be read as credentials counts as none: that node bootstraps again.
 */
export function kubeletStateIn(dir: string): KubeletState {
  const file = (vmId: string): string => join(dir, `${vmId.replace(/[^\w.-]/g, "_")}.json`);
  return {
    async load(vmId) {
      try {
        return parse(await readFile(file(vmId), "utf8"));
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
        throw err;
      }
    },
    async save(vmId, credentials) {
      await mkdir(dir, { recursive: true, mode: 0o700 });
      const { server, caPem, certPem, keyPem } = credentials;
      await writeFile(file(vmId), JSON.stringify({ server, caPem, certPem, keyPem }), { mode: 0o600 });
    },
    async forget(vmId) {
      await rm(file(vmId), { force: true });
    },
  };
}
