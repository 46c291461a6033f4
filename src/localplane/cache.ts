import { homedir } from "node:os";
import { join } from "node:path";

/**
 * The per-user cache that holds built binaries, the Node.js runtime, Python virtualenvs and the
 * state of local control planes. Override with SPROUT_CACHE; defaults to $XDG_CACHE_HOME/sprout or
 * ~/.cache/sprout. The shell scripts in hack/ compute the same path.
 */
export function cacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.SPROUT_CACHE) return env.SPROUT_CACHE;
  const xdg = env.XDG_CACHE_HOME;
  return join(xdg && xdg.length > 0 ? xdg : join(homedir(), ".cache"), "sprout");
}

/** The repository root (this file lives in src/localplane). */
export const repoRoot: string = join(import.meta.dirname, "..", "..");
