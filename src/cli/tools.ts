import { stderrProgress } from "../localplane/progress.ts";
import { ensureTool, type GoToolName, goTools } from "../localplane/tools.ts";

/** `sprout tools`: builds (or finds) every binary the local control plane needs and prints its path. */
export async function runTools(): Promise<number> {
  for (const name of Object.keys(goTools) as GoToolName[]) {
    const path = await ensureTool(name, { progress: stderrProgress });
    stderrProgress(`${name}: ${path}`);
  }
  return 0;
}
