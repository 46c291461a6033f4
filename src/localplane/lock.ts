import { randomBytes } from "node:crypto";
import { link, readFile, rm, writeFile } from "node:fs/promises";
import { setTimeout as sleep } from "node:timers/promises";
import { isAlive } from "./processes.ts";

/**
 * Runs fn while holding an exclusive lock file that names the owner's PID, so two processes never
 * build or install the same thing at once. The file is written whole and then hard-linked into place
 * (atomic, fails if it exists); a lock whose owner is gone is taken over.
 */
export async function withFileLock<T>(path: string, fn: () => Promise<T>): Promise<T> {
  const mine = `${path}.${process.pid}-${randomBytes(4).toString("hex")}`;
  await writeFile(mine, String(process.pid));
  try {
    for (;;) {
      try {
        await link(mine, path);
        break;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
        const owner = Number.parseInt(await readFile(path, "utf8").catch(() => ""), 10);
        if (Number.isFinite(owner) && !isAlive(owner)) await rm(path, { force: true });
        else await sleep(1000);
      }
    }
  } finally {
    await rm(mine, { force: true });
  }
  try {
    return await fn();
  } finally {
    await rm(path, { force: true });
  }
}
