import { join } from "node:path";
import { parseArgs } from "node:util";
import { cacheDir } from "../localplane/cache.ts";
import { LocalPlane } from "../localplane/localplane.ts";
import { stderrProgress } from "../localplane/progress.ts";

/**
 * `sprout start`: a local seed on 127.0.0.1 whose data persists across runs (in --dir, default
 * <cache>/seed), until Ctrl-C or SIGTERM stops every process it started.
 */
export async function runLocalPlane(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { dir: { type: "string" } } });
  const dir = values.dir ?? join(cacheDir(), "seed");
  stderrProgress(`starting the local seed in ${dir}`);
  const plane = await LocalPlane.start({ dir, progress: stderrProgress });
  process.stdout.write(
    [
      "",
      `  kube-apiserver  ${plane.server}`,
      `  kubeconfig      ${plane.kubeconfigPath}`,
      "",
      `  try: kubectl --kubeconfig ${plane.kubeconfigPath} get namespaces`,
      "  stop with Ctrl-C",
      "",
    ].join("\n"),
  );
  await new Promise<void>((resolve) => {
    // Listeners stay: a repeated signal while stopping must not kill the process half-way.
    process.on("SIGINT", resolve);
    process.on("SIGTERM", resolve);
  });
  stderrProgress("stopping the local seed");
  await plane.stop();
  return 0;
}
