import { parseArgs } from "node:util";
import { ensureLocalStack } from "../localplane/localstack.ts";
import { ensureMoto } from "../localplane/moto.ts";
import { stderrProgress } from "../localplane/progress.ts";
import { ensureTool, type GoToolName, goTools } from "../localplane/tools.ts";

/**
 * `sprout tools [--moto] [--localstack]`: builds (or finds) every binary the local control plane
 * needs, and the moto and LocalStack virtualenvs when asked.
 */
export async function runTools(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { moto: { type: "boolean", default: false }, localstack: { type: "boolean", default: false } },
  });
  for (const name of Object.keys(goTools) as GoToolName[]) {
    const path = await ensureTool(name, { progress: stderrProgress });
    stderrProgress(`${name}: ${path}`);
  }
  if (values.moto) stderrProgress(`moto_server: ${await ensureMoto({ progress: stderrProgress })}`);
  if (values.localstack) {
    stderrProgress(`localstack python: ${await ensureLocalStack({ progress: stderrProgress })}`);
  }
  return 0;
}
