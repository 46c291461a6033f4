import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { generatedFiles as apiFiles } from "../api/generate.ts";
import { flagsTable } from "./flags.ts";
import { MACHINE_CONTROLLER_FLAGS } from "./machine-controller.ts";
import { START_FLAGS } from "./start.ts";

/** Every generated file (CRDs, API reference, flags reference), relative to the repository root. */
export function generatedFiles(): Map<string, string> {
  const files = apiFiles();
  files.set(
    join("docs", "contracts", "flags.md"),
    [
      "# Flags",
      "",
      "Generated from `src/cli` by `npm run generate`; do not edit by hand. Names and defaults follow",
      "Gardener MCM's machine controller, so existing deployments keep their arguments.",
      "",
      "## `sprout start`",
      "",
      "Every controller: machine, MachineSet and MachineDeployment (MCM's two processes in one). Without",
      "`--control-kubeconfig` it runs the embedded default (a local seed, the virtual cloud, the node",
      "simulator and a sample MachineDeployment); `npm start` runs this command.",
      "",
      flagsTable(START_FLAGS),
      "",
      "## `sprout machine-controller`",
      "",
      "The machine controller alone (MCM's machine-controller process).",
      "",
      flagsTable(MACHINE_CONTROLLER_FLAGS),
      "",
      "Durations take Go's form (`20m`, `1h30m`, `90s`). A Machine's `spec.creationTimeout`,",
      "`spec.healthTimeout`, `spec.drainTimeout`, `spec.maxEvictRetries` and `spec.nodeConditions`",
      "override the flags for that machine; the annotation",
      "`node.machine.sapcloud.io/effective-creation-timeout` overrides both.",
      "",
    ].join("\n"),
  );
  return files;
}

/** Writes the generated files; returns the paths that changed. */
export async function writeGenerated(root: string): Promise<string[]> {
  const changed: string[] = [];
  for (const [path, content] of generatedFiles()) {
    const full = join(root, path);
    const current = await readFile(full, "utf8").catch(() => undefined);
    if (current !== content) {
      await writeFile(full, content);
      changed.push(path);
    }
  }
  return changed;
}
