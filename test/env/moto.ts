import { join } from "node:path";
import { httpCall, httpOk } from "../../src/localplane/http.ts";
import { freePort } from "../../src/localplane/ports.ts";
import { LoopbackServer, ManagedProcess } from "../../src/localplane/processes.ts";
import type { Progress } from "../../src/localplane/progress.ts";
import { run } from "../../src/localplane/tools.ts";
import { ensureVenv, PIP_QUIET } from "./venv.ts";

/** The moto release sprout tests EC2 against (PyPI moto[server]). */
export const MOTO_VERSION = "5.2.5";

/** Creates (once) a virtualenv in the cache with moto[server] and returns the moto_server path. */
export async function ensureMoto(
  opts: { progress?: Progress; env?: NodeJS.ProcessEnv } = {},
): Promise<string> {
  const venv = await ensureVenv(
    `moto-${MOTO_VERSION}`,
    async (pip, env) => {
      await run(pip, ["install", ...PIP_QUIET, `moto[server]==${MOTO_VERSION}`], { env });
    },
    { ...opts, what: `moto[server]==${MOTO_VERSION}` },
  );
  return join(venv, "bin", "moto_server");
}

/** A moto server on loopback speaking AWS's wire protocols (EC2 among them). */
export class MotoServer extends LoopbackServer {
  /** Starts moto on a free port; `dir` holds its log and PID file. */
  static async start(
    dir: string,
    opts: { progress?: Progress; env?: NodeJS.ProcessEnv } = {},
  ): Promise<MotoServer> {
    const bin = await ensureMoto(opts);
    const port = await freePort();
    const proc = await ManagedProcess.start({
      name: "moto",
      command: bin,
      args: ["-H", "127.0.0.1", "-p", String(port)],
      dir,
      env: { ...(opts.env ?? process.env), MOTO_ENABLE_KEYPAIR_VALIDATION: "false" },
    });
    const moto = new MotoServer(`http://127.0.0.1:${port}`, proc);
    await proc.waitReady(() => httpOk(`${moto.endpoint}/moto-api/data.json`), 60_000, 200);
    return moto;
  }

  /** Forgets every resource moto holds (between tests). */
  async reset(): Promise<void> {
    const res = await httpCall(`${this.endpoint}/moto-api/reset`, { method: "POST" });
    if (res.status !== 200) throw new Error(`moto reset failed: ${res.status} ${res.body}`);
  }
}
