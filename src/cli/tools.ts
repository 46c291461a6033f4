import { parseArgs } from "node:util";
import { ensureMoto } from "../localplane/moto.ts";
import { stderrProgress } from "../localplane/progress.ts";
import { ensureTool, type GoToolName, goTools } from "../localplane/tools.ts";

/** `sprout tools [--moto]`: builds (or finds) every binary the local control plane needs. */
export async function runTools(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { moto: { type: "boolean", default: false } } });
  for (const name of Object.keys(goTools) as GoToolName[]) {
    const path = await ensureTool(name, { progress: stderrProgress });
    stderrProgress(`${name}: ${path}`);
  }
  if (values.moto) stderrProgress(`moto_server: ${await ensureMoto({ progress: stderrProgress })}`);
  return 0;
}
