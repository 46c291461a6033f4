/**
 * Prepares the test environment: builds (or finds) the local control plane's binaries and, when
 * asked, the moto and LocalStack virtualenvs, with progress.
 *
 *   node test/env/prepare.ts [--moto] [--localstack]
 */
import { parseArgs } from "node:util";
import { stderrProgress } from "../../src/localplane/progress.ts";
import { ensureTool, type GoToolName, goTools } from "../../src/localplane/tools.ts";
import { ensureLocalStack } from "./localstack.ts";
import { ensureMoto } from "./moto.ts";

const { values } = parseArgs({
  options: { moto: { type: "boolean", default: false }, localstack: { type: "boolean", default: false } },
});
for (const name of Object.keys(goTools) as GoToolName[]) {
  stderrProgress(`${name}: ${await ensureTool(name, { progress: stderrProgress })}`);
}
if (values.moto) stderrProgress(`moto_server: ${await ensureMoto({ progress: stderrProgress })}`);
if (values.localstack) {
  stderrProgress(`localstack python: ${await ensureLocalStack({ progress: stderrProgress })}`);
}
