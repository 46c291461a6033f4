import { existsSync } from "node:fs";
import { mkdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { cacheDir } from "../../src/localplane/cache.ts";
import { withFileLock } from "../../src/localplane/lock.ts";
import { type Progress, stderrProgress } from "../../src/localplane/progress.ts";
import { run } from "../../src/localplane/tools.ts";

/**
 * A Python virtualenv in the cache, made once (under a file lock, so parallel runs wait for one
 * another) by `install(pip)`; a half-made one is started over. Returns the venv's folder.
 */
export async function ensureVenv(
  name: string,
  install: (pip: string, env: NodeJS.ProcessEnv) => Promise<void>,
  opts: { progress?: Progress; env?: NodeJS.ProcessEnv; what: string },
): Promise<string> {
  const env = opts.env ?? process.env;
  const progress = opts.progress ?? stderrProgress;
  const venv = join(cacheDir(env), "venv", name);
  const done = join(venv, ".installed");
  if (existsSync(done)) return venv;
  await mkdir(join(cacheDir(env), "venv"), { recursive: true });
  await withFileLock(`${venv}.lock`, async () => {
    if (existsSync(done)) return;
    progress(`installing ${opts.what} into ${venv}`);
    await rm(venv, { recursive: true, force: true });
    await run(env.SPROUT_PYTHON ?? "python3", ["-m", "venv", venv], { env });
    await install(join(venv, "bin", "pip"), env);
    await run("touch", [done]);
    progress(`installed ${opts.what}`);
  });
  return venv;
}

/** pip flags for quiet, non-interactive installs. */
export const PIP_QUIET = ["--disable-pip-version-check", "-q"] as const;
