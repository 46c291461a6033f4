import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { generatedFiles as apiFiles } from "../api/generate.ts";
import { flagsTable } from "./flags.ts";
import { MACHINE_CONTROLLER_FLAGS } from "./machine-controller.ts";
import { MACHINE_CONTROLLER_MANAGER_FLAGS } from "./machine-controller-manager.ts";
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
      "Gardener MCM v0.62.1, so existing deployments keep their arguments: `sprout start` accepts every",
      "flag of both MCM processes (`machine-controller-manager` and the provider's `machine-controller`),",
      "`sprout machine-controller-manager` and `sprout machine-controller` every flag of the one they",
      "stand for; a test reads both flag lists from MCM's sources in the Go module cache.",
      "",
      "- **Syntax** as MCM's pflag: `--name=value` or `--name value`, a bare `--name` sets a bool, bools",
      "  take Go's forms (`true`, `1`, `t`, `false`, `0`, `f`, ...), `-v 3` / `-v=3` for `--v`, `_` and `-`",
      "  are the same in names, and the last of a repeated flag wins. An unknown flag, a malformed value,",
      "  a value out of its range (the Range column) or one of the rules below exits with status 1 and a",
      "  message naming the flag.",
      "- **Rules between flags**: `--kube-api-burst` ≥ `--kube-api-qps`; with `--leader-elect`,",
      "  lease duration > renew deadline > 1.2 × retry period (client-go's); `--contention-profiling`",
      "  needs `--profiling`; `--machine-safety-apiserver-statuscheck-period` ≥ its timeout (as MCM).",
      "- **Accepted, no effect**: a flag marked so is MCM's, and sprout has nothing it would change. When",
      "  given, sprout logs one warning line naming it (`flag --safety-up=2 is accepted but has no effect",
      "  in sprout: ...`) and goes on.",
      "- **Log level**: `--log-level` when given, else klog's `--v`: 0–2 info, 3–4 debug, 5 and more",
      "  trace (Gardener passes `--v=3`: debug).",
      "- **Kubeconfigs**: `--control-kubeconfig=inClusterConfig` is the pod's service account, as in",
      "  MCM: `KUBERNETES_SERVICE_HOST`/`KUBERNETES_SERVICE_PORT` and the token and CA in",
      "  `/var/run/secrets/kubernetes.io/serviceaccount/` (under `$SPROUT_IN_CLUSTER_ROOT` when set, for",
      "  a process outside a pod). A kubeconfig file's `tokenFile` (Gardener's generic token kubeconfig)",
      "  is honoured and re-read every minute, so a rotated token is picked up.",
      "- `--resource-exhausted-retry=0` means the default (MCM's long retry period), as in MCM.",
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
      "## `sprout machine-controller-manager`",
      "",
      "The MachineSet and MachineDeployment controllers alone (MCM's `machine-controller-manager`",
      "process). Gardener's Deployment runs it with the provider sidecar, `sprout machine-controller`,",
      "in the same pod: the container's command becomes `sprout machine-controller-manager` with the",
      "same arguments. (`sprout start` with those arguments would run a second machine controller.)",
      "",
      flagsTable(MACHINE_CONTROLLER_MANAGER_FLAGS),
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
