import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, readFile, rename, rm } from "node:fs/promises";
import { join } from "node:path";
import { cacheDir, repoRoot } from "./cache.ts";
import { withFileLock } from "./lock.ts";
import { formatDuration, type Progress, stderrProgress } from "./progress.ts";

/**
 * A binary built from a committed Go wrapper module under hack/tools/<module> (go.mod + go.sum only).
 * The wrapper pins the version; the binary is cached per tool, version and Go version.
 */
export interface GoTool {
  readonly name: string;
  /** Folder under hack/tools holding the wrapper go.mod. */
  readonly module: string;
  /** Package to build. */
  readonly pkg: string;
  /** Module whose pinned version names the binary in the cache. */
  readonly versionModule: string;
  /** True when envtest's KUBEBUILDER_ASSETS layout carries this binary. */
  readonly envtest: boolean;
  readonly ldflags?: (version: string) => readonly string[];
}

function kubeVersionFlags(version: string): string[] {
  const [major = "1", minor = "0"] = version.replace(/^v/, "").split(".");
  const pkg = "k8s.io/component-base/version";
  return [
    `-X ${pkg}.gitMajor=${major}`,
    `-X ${pkg}.gitMinor=${minor}`,
    `-X ${pkg}.gitVersion=${version}`,
    `-X ${pkg}.gitTreeState=clean`,
    `-X ${pkg}.buildDate=1970-01-01T00:00:00Z`,
  ];
}

export const goTools = {
  "kube-apiserver": {
    name: "kube-apiserver",
    module: "kube",
    pkg: "k8s.io/kubernetes/cmd/kube-apiserver",
    versionModule: "k8s.io/kubernetes",
    envtest: true,
    ldflags: kubeVersionFlags,
  },
  "kube-controller-manager": {
    name: "kube-controller-manager",
    module: "kube",
    pkg: "k8s.io/kubernetes/cmd/kube-controller-manager",
    versionModule: "k8s.io/kubernetes",
    envtest: false,
    ldflags: kubeVersionFlags,
  },
  etcd: {
    name: "etcd",
    module: "etcd",
    pkg: "go.etcd.io/etcd/server/v3",
    versionModule: "go.etcd.io/etcd/server/v3",
    envtest: true,
  },
  "ignition-validate": {
    name: "ignition-validate",
    module: "ignition",
    pkg: "github.com/coreos/ignition/v2/validate",
    versionModule: "github.com/coreos/ignition/v2",
    envtest: false,
    ldflags: (version) => [`-X github.com/coreos/ignition/v2/internal/version.Raw=${version}`],
  },
} as const satisfies Record<string, GoTool>;

export type GoToolName = keyof typeof goTools;

/** The version a wrapper go.mod pins for a module path, e.g. v1.36.2 for k8s.io/kubernetes. */
export function pinnedVersion(goMod: string, modulePath: string): string {
  const escaped = modulePath.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const match = new RegExp(`^\\s*(?:require\\s+)?${escaped}\\s+(v\\S+)`, "m").exec(goMod);
  if (!match?.[1]) throw new Error(`go.mod does not require ${modulePath}`);
  return match[1];
}

/** Runs a command, collecting its output; rejects with the output's tail on a non-zero exit. */
export function run(
  cmd: string,
  args: readonly string[],
  opts: { cwd?: string; env?: NodeJS.ProcessEnv; onLine?: (line: string) => void } = {},
): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      cwd: opts.cwd,
      env: opts.env ?? process.env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    const lines: string[] = [];
    let out = "";
    const collect = (chunk: Buffer, isStdout: boolean): void => {
      const text = chunk.toString();
      if (isStdout) out += text;
      for (const line of text.split("\n")) {
        if (line.length === 0) continue;
        lines.push(line);
        if (lines.length > 200) lines.shift();
        opts.onLine?.(line);
      }
    };
    child.stdout.on("data", (c: Buffer) => collect(c, true));
    child.stderr.on("data", (c: Buffer) => collect(c, false));
    child.on("error", (err) => reject(new Error(`cannot run ${cmd}: ${err.message}`)));
    child.on("close", (code) => {
      if (code === 0) resolve(out);
      else reject(new Error(`${cmd} ${args.join(" ")} exited ${code}:\n${lines.slice(-30).join("\n")}`));
    });
  });
}

export interface EnsureOptions {
  readonly progress?: Progress;
  readonly env?: NodeJS.ProcessEnv;
}

let goVersionCache: string | undefined;
async function goVersion(): Promise<string> {
  goVersionCache ??= (await run("go", ["env", "GOVERSION"])).trim();
  return goVersionCache;
}

/** Where the cached binary for a tool lives (built or not). */
export async function cachedToolPath(tool: GoTool, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const goMod = await readFile(join(repoRoot, "hack", "tools", tool.module, "go.mod"), "utf8");
  const version = pinnedVersion(goMod, tool.versionModule);
  return join(cacheDir(env), "bin", `${tool.name}-${version}-${await goVersion()}`);
}

/**
 * Returns the path of a tool's binary: from KUBEBUILDER_ASSETS when set and it holds the tool,
 * else from the cache, else built now from the wrapper module (minutes when cold, with progress).
 */
export async function ensureTool(name: GoToolName, opts: EnsureOptions = {}): Promise<string> {
  const env = opts.env ?? process.env;
  const tool: GoTool = goTools[name];
  const assets = env.KUBEBUILDER_ASSETS;
  if (assets && tool.envtest && existsSync(join(assets, tool.name))) return join(assets, tool.name);
  const target = await cachedToolPath(tool, env);
  if (existsSync(target)) return target;
  await mkdir(join(cacheDir(env), "bin"), { recursive: true });
  await withFileLock(`${target}.lock`, async () => {
    if (!existsSync(target)) await buildTool(tool, target, opts.progress ?? stderrProgress, env);
  });
  return target;
}

async function buildTool(
  tool: GoTool,
  target: string,
  progress: Progress,
  env: NodeJS.ProcessEnv,
): Promise<void> {
  const cwd = join(repoRoot, "hack", "tools", tool.module);
  const goEnv = { ...env, CGO_ENABLED: "0", GOFLAGS: "-mod=readonly" };
  const started = Date.now();
  const version = pinnedVersion(await readFile(join(cwd, "go.mod"), "utf8"), tool.versionModule);
  progress(`building ${tool.name} ${version} from hack/tools/${tool.module} (the first build takes minutes)`);
  progress(`  downloading Go modules for ${tool.name}`);
  const deps = (await run("go", ["list", "-deps", tool.pkg], { cwd, env: goEnv }))
    .split("\n")
    .filter(Boolean);
  let built = 0;
  const report = (): void => {
    progress(
      `  ${tool.name}: compiled ${built} of at most ${deps.length} packages (${formatDuration(Date.now() - started)})`,
    );
  };
  const ticker = setInterval(report, 15_000);
  const ldflags = ["-s", "-w", ...(tool.ldflags?.(version) ?? [])].join(" ");
  const tmp = `${target}.tmp-${process.pid}`;
  try {
    await run("go", ["build", "-v", "-trimpath", "-ldflags", ldflags, "-o", tmp, tool.pkg], {
      cwd,
      env: goEnv,
      onLine: () => {
        built++;
      },
    });
    await rename(tmp, target);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  } finally {
    clearInterval(ticker);
  }
  progress(`built ${tool.name} ${version} in ${formatDuration(Date.now() - started)} -> ${target}`);
}

/**
 * The folder of a Go module pinned by a wrapper module under hack/tools, downloaded into the module
 * cache when missing (for reading files another project ships, such as CRDs or schemas, at run time).
 */
export async function goModuleDir(wrapper: string, modulePath: string): Promise<string> {
  const cwd = join(repoRoot, "hack", "tools", wrapper);
  const out = await run("go", ["mod", "download", "-json", modulePath], { cwd });
  const info = JSON.parse(out) as { Dir?: string; Error?: string };
  if (!info.Dir) throw new Error(`go mod download ${modulePath}: ${info.Error ?? "no directory"}`);
  return info.Dir;
}
