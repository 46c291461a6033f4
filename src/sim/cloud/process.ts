import { join } from "node:path";
import { repoRoot } from "../../localplane/cache.ts";
import { httpOk } from "../../localplane/http.ts";
import { freePort } from "../../localplane/ports.ts";
import { LoopbackServer, ManagedProcess } from "../../localplane/processes.ts";

export type VirtualCloudProcess = LoopbackServer;

/** Starts the virtual cloud as its own process (state in dir/vms.json) and waits until it answers. */
export async function startVirtualCloud(
  dir: string,
  args: readonly string[] = [],
  port?: number,
): Promise<VirtualCloudProcess> {
  const p = port ?? (await freePort());
  const proc = await ManagedProcess.start({
    name: "virtual-cloud",
    command: process.execPath,
    args: [
      join(repoRoot, "src", "sim", "cloud", "server-main.ts"),
      "--port",
      String(p),
      "--state-file",
      join(dir, "vms.json"),
      ...args,
    ],
    dir,
  });
  const endpoint = `http://127.0.0.1:${p}`;
  await proc.waitReady(() => httpOk(`${endpoint}/healthz`), 20_000, 50);
  return new LoopbackServer(endpoint, proc);
}
