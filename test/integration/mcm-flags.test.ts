import { type ChildProcess, spawn } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CoreV1Api, RbacAuthorizationV1Api } from "@kubernetes/client-node";
import { dump } from "js-yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { installCrds } from "../../src/cli/install-crds.ts";
import { IN_CLUSTER_ROOT_ENV } from "../../src/cli/kubeconfig.ts";
import { MACHINE_CONTROLLER_FLAGS } from "../../src/cli/machine-controller.ts";
import { MACHINE_CONTROLLER_MANAGER_FLAGS } from "../../src/cli/machine-controller-manager.ts";
import { START_FLAGS } from "../../src/cli/start.ts";
import { repoRoot } from "../../src/localplane/cache.ts";
import { goModuleDir } from "../../src/localplane/tools.ts";
import { adminKubeConfig, eventually, testNamespace } from "../env/index.ts";

const MCM = "github.com/gardener/machine-controller-manager";

/** The names a Go file registers with `fs.XxxVar(..., "name", ...)` (the first string literal). */
const registered = (source: string, receiver = "fs"): string[] =>
  [...source.matchAll(new RegExp(`${receiver}\\.\\w*Var\\([^"\\n]*"([\\w-]+)"`, "g"))].map((m) =>
    (m[1] ?? "").replaceAll("_", "-"),
  );

async function mcmFlagLists(): Promise<{ mcm: string[]; mc: string[]; klog: string[] }> {
  const mcmDir = await goModuleDir("mcm", MCM);
  const read = (dir: string, ...path: string[]) => readFile(join(dir, ...path), "utf8");
  const mcmOptions = await read(mcmDir, "cmd/machine-controller-manager/app/options/options.go");
  const mcOptions = await read(mcmDir, "pkg/util/provider/app/options/options.go");
  const leader = await read(mcmDir, "pkg/util/client/leaderelectionconfig/config.go");
  // Both options files add component-base's log flags and MCM's leader-election flags.
  for (const source of [mcmOptions, mcOptions]) {
    expect(source).toContain("logs.AddFlags(fs)");
    expect(source).toContain("leaderelectionconfig.BindFlags(&s.LeaderElection, fs)");
  }
  const base = await goModuleDir("mcm", "k8s.io/component-base");
  const klogflags = await read(base, "logs/klogflags/klogflags.go");
  const logsApi = await read(base, "logs/api/v1/options.go");
  const logs = await read(base, "logs/logs.go");
  expect(logs).toContain("packageFlags.DurationVar(&logFlushFreq, logsapi.LogFlushFreqFlagName");
  const picked = /case ((?:"\w+",? ?)+):/.exec(klogflags)?.[1] ?? "";
  const componentBase = [
    ...[...picked.matchAll(/"(\w+)"/g)].map((m) => m[1] ?? ""),
    /LogFlushFreqFlagName = "([\w-]+)"/.exec(logsApi)?.[1] ?? "",
  ];
  expect(componentBase).toEqual(["v", "vmodule", "log-flush-frequency"]);
  const klog = registered(await read(await goModuleDir("mcm", "k8s.io/klog/v2"), "klog.go"), "commandLine");
  expect(klog).toContain("logtostderr");
  const leaderFlags = registered(leader);
  return {
    mcm: [...registered(mcmOptions), ...leaderFlags, ...componentBase],
    mc: [...registered(mcOptions), ...leaderFlags, ...componentBase],
    klog,
  };
}

describe("MCM v0.62.1's flags, read from its sources in the Go module cache", () => {
  let lists: Awaited<ReturnType<typeof mcmFlagLists>>;
  beforeAll(async () => {
    lists = await mcmFlagLists();
  }, 120_000);
  const names = (specs: readonly { name: string }[]) => specs.map((s) => s.name);

  it("sprout start accepts every flag of both processes and klog's", () => {
    expect(lists.mcm.length).toBeGreaterThan(20);
    expect(lists.mc.length).toBeGreaterThan(30);
    const missing = [...lists.mcm, ...lists.mc, ...lists.klog].filter((f) => !names(START_FLAGS).includes(f));
    expect(missing).toEqual([]);
  });

  it("sprout machine-controller accepts every flag of the provider's machine controller and klog's", () => {
    const missing = [...lists.mc, ...lists.klog].filter((f) => !names(MACHINE_CONTROLLER_FLAGS).includes(f));
    expect(missing).toEqual([]);
  });

  it("sprout machine-controller-manager accepts every flag of MCM's own process and klog's", () => {
    const accepted = names(MACHINE_CONTROLLER_MANAGER_FLAGS);
    expect([...lists.mcm, ...lists.klog].filter((f) => !accepted.includes(f))).toEqual([]);
    // And nothing of the provider's process that MCM's own would refuse.
    expect(accepted.filter((f) => !lists.mcm.includes(f) && !lists.klog.includes(f))).toEqual(["log-level"]);
  });

  it("every flag marked accepted-without-effect is one of MCM's", () => {
    const all = new Set([...lists.mcm, ...lists.mc, ...lists.klog]);
    const invented = START_FLAGS.filter((f) => f.inactive && !all.has(f.name)).map((f) => f.name);
    expect(invented).toEqual([]);
  });
});

// The container command lines gardenlet renders for the machine-controller-manager Deployment
// (gardener v1.149, pkg/component/nodemanagement/machinecontrollermanager) and the one the provider
// extension's webhook adds as the sidecar. <ns> and <kubeconfig> are substituted below.
const GENERIC_KUBECONFIG = "/var/run/secrets/gardener.cloud/shoot/generic-kubeconfig/kubeconfig";
const MCM_CONTAINER = `./machine-controller-manager --control-kubeconfig=inClusterConfig --machine-safety-overshooting-period=1m --namespace=<ns> --port=10258 --safety-up=2 --safety-down=1 --target-kubeconfig=${GENERIC_KUBECONFIG} --concurrent-syncs=30 --kube-api-qps=150 --kube-api-burst=200 --v=3`;
const PROVIDER_SIDECAR = `--control-kubeconfig=inClusterConfig --kube-api-qps=100 --kube-api-burst=200 --machine-creation-timeout=20m --machine-drain-timeout=2h --machine-health-timeout=10m --machine-safety-apiserver-statuscheck-timeout=30s --machine-safety-apiserver-statuscheck-period=1m --machine-safety-orphan-vms-period=30m --namespace=<ns> --port=10259 --target-kubeconfig=${GENERIC_KUBECONFIG} --v=3`;

/** The port when it is free on this machine, else a free one (other test runs may hold it). */
async function portOr(wanted: number): Promise<number> {
  const tryListen = (port: number) =>
    new Promise<number | undefined>((resolve) => {
      const srv = createServer();
      srv.once("error", () => resolve(undefined));
      srv.listen(port, "0.0.0.0", () => {
        const got = (srv.address() as { port: number }).port;
        srv.close(() => resolve(got));
      });
    });
  return (await tryListen(wanted)) ?? (await tryListen(0)) ?? 0;
}

interface Running {
  child: ChildProcess;
  stdout: () => string;
  exited: Promise<number | null>;
}

function runSprout(args: string[], env: NodeJS.ProcessEnv): Running {
  const child = spawn(process.execPath, ["src/cli/main.ts", ...args], {
    cwd: repoRoot,
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout?.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr?.on("data", (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
  return { child, stdout: () => out, exited };
}

describe("the command lines Gardener renders", () => {
  const cleanups: (() => Promise<unknown>)[] = [];
  afterAll(async () => {
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
  });

  it("start sprout: MCM's container as machine-controller-manager, the sidecar as machine-controller", async () => {
    const kc = await adminKubeConfig();
    await installCrds(kc);
    const ns = await testNamespace("gardener-args");
    const cluster = kc.getCurrentCluster();
    if (!cluster) throw new Error("no cluster");
    const server = new URL(cluster.server);
    const ca = cluster.caData
      ? Buffer.from(cluster.caData, "base64").toString()
      : await readFile(cluster.caFile ?? "", "utf8");

    // The pod's service account: a real one, with a token from the TokenRequest API.
    const sa = "machine-controller-manager";
    await kc
      .makeApiClient(CoreV1Api)
      .createNamespacedServiceAccount({ namespace: ns, body: { metadata: { name: sa } } });
    const binding = `${ns}-${sa}`;
    await kc.makeApiClient(RbacAuthorizationV1Api).createClusterRoleBinding({
      body: {
        metadata: { name: binding },
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "cluster-admin" },
        subjects: [{ kind: "ServiceAccount", name: sa, namespace: ns }],
      },
    });
    cleanups.push(() => kc.makeApiClient(RbacAuthorizationV1Api).deleteClusterRoleBinding({ name: binding }));
    const request = await kc.makeApiClient(CoreV1Api).createNamespacedServiceAccountToken({
      name: sa,
      namespace: ns,
      body: { spec: { audiences: [], expirationSeconds: 3600 } },
    });
    const token = request.status?.token ?? "";
    expect(token).not.toBe("");

    const dir = await mkdtemp(join(tmpdir(), "sprout-gardener-args-"));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const saDir = join(dir, "root", "var/run/secrets/kubernetes.io/serviceaccount");
    await mkdir(saDir, { recursive: true });
    await writeFile(join(saDir, "token"), token);
    await writeFile(join(saDir, "ca.crt"), ca);
    await writeFile(join(saDir, "namespace"), ns);
    // Gardener's generic token kubeconfig: the CA inline, the token from a file beside it.
    const generic = join(dir, "generic-kubeconfig");
    await mkdir(generic);
    await writeFile(join(generic, "token"), token);
    await writeFile(
      join(generic, "kubeconfig"),
      dump({
        apiVersion: "v1",
        kind: "Config",
        clusters: [
          {
            name: "shoot",
            cluster: {
              server: cluster.server,
              "certificate-authority-data": Buffer.from(ca).toString("base64"),
            },
          },
        ],
        users: [{ name: "shoot", user: { tokenFile: join(generic, "token") } }],
        contexts: [{ name: "shoot", context: { cluster: "shoot", user: "shoot" } }],
        "current-context": "shoot",
      }),
    );

    const env = {
      ...process.env,
      KUBERNETES_SERVICE_HOST: server.hostname,
      KUBERNETES_SERVICE_PORT: server.port,
      [IN_CLUSTER_ROOT_ENV]: join(dir, "root"),
    };
    const mcmPort = await portOr(10258);
    const mcPort = await portOr(10259);
    const substitute = (line: string, port: number, wanted: number) =>
      line
        .replaceAll("<ns>", ns)
        .replaceAll(GENERIC_KUBECONFIG, join(generic, "kubeconfig"))
        .replace(`--port=${String(wanted)}`, `--port=${String(port)}`)
        .split(" ");
    const [binary, ...mcmArgs] = substitute(MCM_CONTAINER, mcmPort, 10258);
    expect(binary).toBe("./machine-controller-manager");
    const mcm = runSprout(["machine-controller-manager", ...mcmArgs], env);
    const mc = runSprout(["machine-controller", ...substitute(PROVIDER_SIDECAR, mcPort, 10259)], env);
    for (const p of [mcm, mc])
      cleanups.push(() => Promise.resolve(p.child.exitCode === null && p.child.kill("SIGKILL")));

    const ready = async (port: number, p: Running) => {
      if (p.child.exitCode !== null) throw new Error(`exited ${String(p.child.exitCode)}: ${p.stdout()}`);
      for (const path of ["/healthz", "/readyz"]) {
        const res = await fetch(`http://127.0.0.1:${String(port)}${path}`);
        expect(res.status, `${path} ${await res.text()}`).toBe(200);
      }
    };
    await eventually(() => ready(mcmPort, mcm), { timeoutMs: 60_000 });
    await eventually(() => ready(mcPort, mc), { timeoutMs: 60_000 });

    const warned = (p: Running, flag: string) =>
      p
        .stdout()
        .split("\n")
        .filter((l) => l.includes(`flag --${flag}=`)).length;
    // The overshooting guard acts on its flags: no warning.
    for (const flag of ["machine-safety-overshooting-period", "safety-up", "safety-down"])
      expect(warned(mcm, flag)).toBe(0);
    expect(warned(mc, "machine-safety-apiserver-statuscheck-timeout")).toBe(0);
    // The orphan VM collector acts on its period: no warning.
    expect(warned(mc, "machine-safety-orphan-vms-period")).toBe(0);
    // --v=3 is debug: pino's level 20 lines appear.
    expect(mc.stdout()).toMatch(/"level":20/);

    for (const p of [mcm, mc]) p.child.kill("SIGTERM");
    expect(await mcm.exited).toBe(0);
    expect(await mc.exited).toBe(0);
  }, 120_000);
});
