import { join } from "node:path";
import { httpOk } from "../../src/localplane/http.ts";
import { freePort, portIsFree } from "../../src/localplane/ports.ts";
import { LoopbackServer, ManagedProcess } from "../../src/localplane/processes.ts";
import type { Progress } from "../../src/localplane/progress.ts";
import { run } from "../../src/localplane/tools.ts";
import { ensureVenv, PIP_QUIET } from "./venv.ts";

/**
 * The LocalStack release sprout checks the AWS plugin against (PyPI localstack-core, host mode).
 * It is the newest that runs on Python 3.11: localstack-core 2026.3.0 uses Python 3.12 syntax.
 */
export const LOCALSTACK_VERSION = "4.14.0";
/**
 * Its dependencies are installed as PyPI had them the day after its release: later cbor2 (6.x)
 * and pyOpenSSL (26.x) releases break its start-up.
 */
export const LOCALSTACK_DEPENDENCIES_AS_OF = "2026-02-27T00:00:00Z";
/** A pip that knows --uploaded-prior-to. */
const PIP_VERSION = "26.3";
/** LocalStack's usual gateway port; another free port is taken when it is busy. */
export const LOCALSTACK_PORT = 4566;

/** Creates (once) a virtualenv in the cache with localstack-core[runtime] and returns its python. */
export async function ensureLocalStack(
  opts: { progress?: Progress; env?: NodeJS.ProcessEnv } = {},
): Promise<string> {
  const venv = await ensureVenv(
    `localstack-${LOCALSTACK_VERSION}`,
    async (pip, env) => {
      await run(pip, ["install", ...PIP_QUIET, `pip==${PIP_VERSION}`], { env });
      const pkg = `localstack-core[runtime]==${LOCALSTACK_VERSION}`;
      const asOf = ["--uploaded-prior-to", LOCALSTACK_DEPENDENCIES_AS_OF];
      await run(pip, ["install", ...PIP_QUIET, ...asOf, pkg], { env });
    },
    { ...opts, what: `localstack-core[runtime]==${LOCALSTACK_VERSION} (about 500 MB)` },
  );
  return join(venv, "bin", "python");
}

/** LocalStack's runtime on the host (no Docker), serving EC2 (its EC2 is moto's) and IAM. */
export class LocalStackServer extends LoopbackServer {
  /** Starts LocalStack on 127.0.0.1:4566 (or a free port when that is busy); `dir` holds its state and log. */
  static async start(
    dir: string,
    opts: { progress?: Progress; env?: NodeJS.ProcessEnv } = {},
  ): Promise<LocalStackServer> {
    const python = await ensureLocalStack(opts);
    const port = (await portIsFree(LOCALSTACK_PORT)) ? LOCALSTACK_PORT : await freePort();
    const proc = await ManagedProcess.start({
      name: "localstack",
      command: python,
      args: ["-m", "localstack.runtime.main"],
      dir,
      env: { ...(opts.env ?? process.env), ...localStackEnv(dir, port) },
    });
    const server = new LocalStackServer(`http://127.0.0.1:${port}`, proc);
    await proc.waitReady(() => httpOk(`${server.endpoint}/_localstack/health`), 120_000, 250);
    return server;
  }
}

/** LocalStack's settings for a host-mode run that touches nothing beyond loopback and `dir`. */
export function localStackEnv(dir: string, port: number): Record<string, string> {
  return {
    GATEWAY_LISTEN: `127.0.0.1:${port}`,
    SERVICES: "ec2,iam",
    FILESYSTEM_ROOT: join(dir, "state"),
    // No DNS server on 0.0.0.0:53, no certificate download, no usage events.
    DNS_ADDRESS: "0",
    SKIP_SSL_CERT_DOWNLOAD: "1",
    DISABLE_EVENTS: "1",
    // Its moto validates instance types, as EC2 does.
    MOTO_EC2_ENABLE_INSTANCE_TYPE_VALIDATION: "true",
  };
}
