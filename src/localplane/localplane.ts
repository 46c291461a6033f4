import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { CoreV1Api, type KubeConfig } from "@kubernetes/client-node";
import { cacheDir } from "./cache.ts";
import { httpCall, httpOk } from "./http.ts";
import { kubeConfigFromString, renderClusterInfo, renderKubeconfig, writeKubeconfig } from "./kubeconfig.ts";
import { ensureNodeBootstrapBindings } from "./node-bootstrap.ts";
import { clientCert, ensurePki, type Pki, pem } from "./pki.ts";
import { freePort, portIsFree } from "./ports.ts";
import { ManagedProcess, sweepOrphans } from "./processes.ts";
import { formatDuration, type Progress, silentProgress } from "./progress.ts";
import { ensureTool } from "./tools.ts";

/** Controllers of kube-controller-manager a local plane runs, so it behaves like a real cluster. */
export const CONTROLLERS = [
  "garbage-collector-controller",
  "namespace-controller",
  "serviceaccount-controller",
  "serviceaccount-token-controller",
  "root-ca-certificate-publisher-controller",
  "clusterrole-aggregation-controller",
  "disruption-controller",
  "bootstrap-signer-controller",
  "token-cleaner-controller",
  "certificatesigningrequest-approving-controller",
  "certificatesigningrequest-signing-controller",
  "certificatesigningrequest-cleaner-controller",
] as const;

export interface LocalPlaneOptions {
  /** Folder for certificates, etcd data, logs and kubeconfigs. Kept when given; throw-away when not. */
  readonly dir?: string;
  /** Run kube-controller-manager (garbage collection, namespace deletion, token controllers). Default true. */
  readonly controllerManager?: boolean;
  readonly progress?: Progress;
  readonly env?: NodeJS.ProcessEnv;
  /** How long to wait for each component to become ready. Default 60 s. */
  readonly readyTimeoutMs?: number;
}

interface Ports {
  etcdClient: number;
  etcdPeer: number;
  apiserver: number;
}

/** Where throw-away planes live; orphans left by killed owners are swept from here. */
export function planesRoot(env: NodeJS.ProcessEnv = process.env): string {
  return join(cacheDir(env), "planes");
}

/**
 * A real Kubernetes control plane on 127.0.0.1: etcd, kube-apiserver and kube-controller-manager,
 * each a child process tracked by PID. Start with LocalPlane.start(); stop with stop().
 */
export class LocalPlane {
  readonly dir: string;
  readonly kubeconfigPath: string;
  readonly ephemeral: boolean;
  #opts: LocalPlaneOptions;
  #pki: Pki;
  #ports: Ports;
  #procs: ManagedProcess[] = [];

  private constructor(dir: string, ephemeral: boolean, pki: Pki, ports: Ports, opts: LocalPlaneOptions) {
    this.dir = dir;
    this.ephemeral = ephemeral;
    this.kubeconfigPath = join(dir, "admin.kubeconfig");
    this.#pki = pki;
    this.#ports = ports;
    this.#opts = opts;
  }

  static async start(opts: LocalPlaneOptions = {}): Promise<LocalPlane> {
    const env = opts.env ?? process.env;
    const root = planesRoot(env);
    await mkdir(root, { recursive: true });
    await sweepOrphans(root);
    const ephemeral = opts.dir === undefined;
    const dir = opts.dir ?? join(root, `${Date.now().toString(36)}-${randomBytes(3).toString("hex")}`);
    await mkdir(dir, { recursive: true, mode: 0o700 });
    if (ephemeral) await writeFile(join(dir, "ephemeral"), String(process.pid));
    const pki = await ensurePki(join(dir, "pki"));
    const plane = new LocalPlane(dir, ephemeral, pki, await loadPorts(dir), opts);
    try {
      await plane.#startProcesses();
    } catch (err) {
      await plane.stop();
      throw err;
    }
    return plane;
  }

  get server(): string {
    return `https://127.0.0.1:${this.#ports.apiserver}`;
  }

  get etcdEndpoint(): string {
    return `http://127.0.0.1:${this.#ports.etcdClient}`;
  }

  /** PIDs of the running components, by name. */
  get pids(): Record<string, number> {
    return Object.fromEntries(this.#procs.filter((p) => p.running).map((p) => [p.name, p.pid]));
  }

  async caPem(): Promise<string> {
    return pem(this.#pki.caCert);
  }

  /** A client for the cluster-admin user (group system:masters). */
  async kubeConfig(): Promise<KubeConfig> {
    return kubeConfigFromString(await readFile(this.kubeconfigPath, "utf8"));
  }

  /** A client authenticated by a client certificate for any user and groups (for RBAC tests). */
  async kubeConfigFor(user: string, groups: readonly string[] = []): Promise<KubeConfig> {
    const cert = await clientCert(this.#pki, user, groups);
    return kubeConfigFromString(
      renderKubeconfig({
        server: this.server,
        caPem: await this.caPem(),
        user,
        credential: { certPem: await pem(cert.cert), keyPem: await pem(cert.key) },
      }),
    );
  }

  /** A client that presents a bearer token (service-account or bootstrap token). */
  async kubeConfigForToken(token: string, user = "token-user"): Promise<KubeConfig> {
    return kubeConfigFromString(
      renderKubeconfig({ server: this.server, caPem: await this.caPem(), user, credential: { token } }),
    );
  }

  /** Compacts etcd's history up to its current revision; returns that revision. */
  async compactEtcd(): Promise<number> {
    const range = await httpCall(`${this.etcdEndpoint}/v3/kv/range`, {
      method: "POST",
      body: '{"key":"AA=="}',
    });
    const revision = Number((JSON.parse(range.body) as { header?: { revision?: string } }).header?.revision);
    if (!Number.isFinite(revision)) throw new Error(`cannot read etcd's revision: ${range.body}`);
    const res = await httpCall(`${this.etcdEndpoint}/v3/kv/compaction`, {
      method: "POST",
      body: JSON.stringify({ revision: String(revision), physical: true }),
    });
    if (res.status !== 200) throw new Error(`etcd compaction failed: ${res.status} ${res.body}`);
    return revision;
  }

  /** Stops every component (controller-manager, apiserver, etcd), keeping data unless throw-away. */
  async stop(): Promise<void> {
    await this.#stopProcesses();
    if (this.ephemeral) await rm(this.dir, { recursive: true, force: true });
  }

  /** Stops and starts every component on the same data and ports. */
  async restart(): Promise<void> {
    await this.#stopProcesses();
    await this.#startProcesses();
  }

  async #stopProcesses(): Promise<void> {
    for (const proc of [...this.#procs].reverse()) await proc.stop();
    this.#procs = [];
  }

  async #startProcesses(): Promise<void> {
    const progress = this.#opts.progress ?? silentProgress;
    const env = this.#opts.env ?? process.env;
    const started = Date.now();
    const [etcdBin, apiserverBin] = [
      await ensureTool("etcd", { env }),
      await ensureTool("kube-apiserver", { env }),
    ];
    this.#ports = await ensurePortsFree(this.dir, this.#ports);
    await this.#launch("etcd", etcdBin, this.#etcdArgs());
    await this.#waitFor("etcd", async () => {
      const res = await httpCall(`${this.etcdEndpoint}/health`);
      return res.status === 200 && res.body.includes('"health":"true"');
    });
    await this.#launch("kube-apiserver", apiserverBin, this.#apiserverArgs());
    const ca = await this.caPem();
    await this.#waitFor("kube-apiserver", () => httpOk(`${this.server}/readyz`, { ca }));
    await this.#writeAdminKubeconfig(ca);
    await this.#publishClusterInfo(ca);
    await ensureNodeBootstrapBindings(await this.kubeConfig());
    if (this.#opts.controllerManager ?? true) {
      const kcmBin = await ensureTool("kube-controller-manager", { env });
      await this.#launch("kube-controller-manager", kcmBin, this.#controllerManagerArgs());
    }
    progress(`local control plane ready at ${this.server} in ${formatDuration(Date.now() - started)}`);
  }

  async #launch(name: string, command: string, args: readonly string[]): Promise<void> {
    this.#procs.push(await ManagedProcess.start({ name, command, args, dir: join(this.dir, "logs") }));
  }

  async #waitFor(name: string, ready: () => Promise<boolean>): Promise<void> {
    const proc = this.#procs.find((p) => p.name === name);
    if (!proc) throw new Error(`${name} was not started`);
    await proc.waitReady(ready, this.#opts.readyTimeoutMs ?? 60_000);
  }

  #etcdArgs(): string[] {
    const client = this.etcdEndpoint;
    const peer = `http://127.0.0.1:${this.#ports.etcdPeer}`;
    return [
      "--name=sprout",
      `--data-dir=${join(this.dir, "etcd")}`,
      `--listen-client-urls=${client}`,
      `--advertise-client-urls=${client}`,
      `--listen-peer-urls=${peer}`,
      `--initial-advertise-peer-urls=${peer}`,
      `--initial-cluster=sprout=${peer}`,
      "--unsafe-no-fsync=true",
      "--log-level=warn",
    ];
  }

  #apiserverArgs(): string[] {
    const pki = this.#pki;
    return [
      `--etcd-servers=${this.etcdEndpoint}`,
      `--secure-port=${this.#ports.apiserver}`,
      "--bind-address=127.0.0.1",
      "--advertise-address=127.0.0.1",
      `--cert-dir=${join(this.dir, "apiserver")}`,
      `--tls-cert-file=${pki.servingCert}`,
      `--tls-private-key-file=${pki.servingKey}`,
      `--client-ca-file=${pki.caCert}`,
      "--authorization-mode=Node,RBAC",
      "--enable-bootstrap-token-auth=true",
      `--service-account-issuer=${this.server}`,
      `--service-account-key-file=${pki.serviceAccountPub}`,
      `--service-account-signing-key-file=${pki.serviceAccountKey}`,
      "--service-cluster-ip-range=10.0.0.0/24",
      "--allow-privileged=true",
      // As envtest: pods do not wait for a default ServiceAccount token to exist.
      "--disable-admission-plugins=ServiceAccount",
      "--enable-admission-plugins=NodeRestriction",
      "--profiling=false",
      "--v=0",
    ];
  }

  #controllerManagerArgs(): string[] {
    return [
      `--kubeconfig=${this.kubeconfigPath}`,
      `--controllers=${CONTROLLERS.join(",")}`,
      `--service-account-private-key-file=${this.#pki.serviceAccountKey}`,
      `--root-ca-file=${this.#pki.caCert}`,
      // Kubelet client certificates (TLS bootstrap) are signed by the plane's CA.
      `--cluster-signing-cert-file=${this.#pki.caCert}`,
      `--cluster-signing-key-file=${this.#pki.caKey}`,
      "--leader-elect=false",
      "--secure-port=0",
      "--use-service-account-credentials=false",
      // Each joining node's CSR costs two writes (approval, certificate); at the default 20 QPS the
      // seed would admit about 10 nodes a second, far below what simulated fleets need.
      "--kube-api-qps=500",
      "--kube-api-burst=1000",
      "--v=0",
    ];
  }

  async #writeAdminKubeconfig(ca: string): Promise<void> {
    const admin = await clientCert(this.#pki, "sprout-admin", ["system:masters"]);
    await writeKubeconfig(this.kubeconfigPath, {
      server: this.server,
      caPem: ca,
      user: "sprout-admin",
      credential: { certPem: await pem(admin.cert), keyPem: await pem(admin.key) },
    });
  }

  /** kube-public/cluster-info as kubeadm writes it; the bootstrap signer signs it for every token. */
  async #publishClusterInfo(ca: string): Promise<void> {
    const core = (await this.kubeConfig()).makeApiClient(CoreV1Api);
    const kubeconfig = renderClusterInfo(this.server, ca);
    const namespace = "kube-public";
    const name = "cluster-info";
    const existing = await core.readNamespacedConfigMap({ namespace, name }).catch((err: unknown) => {
      if ((err as { code?: number }).code === 404) return undefined;
      throw err;
    });
    if (!existing) {
      await core.createNamespacedConfigMap({ namespace, body: { metadata: { name }, data: { kubeconfig } } });
    } else if (existing.data?.kubeconfig !== kubeconfig) {
      existing.data = { ...existing.data, kubeconfig };
      await core.replaceNamespacedConfigMap({ namespace, name, body: existing });
    }
  }
}

async function loadPorts(dir: string): Promise<Ports> {
  const file = join(dir, "ports.json");
  if (existsSync(file)) return JSON.parse(await readFile(file, "utf8")) as Ports;
  const ports = { etcdClient: await freePort(), etcdPeer: await freePort(), apiserver: await freePort() };
  await writeFile(file, JSON.stringify(ports));
  return ports;
}

/** Keeps the ports a plane used before (so kubeconfigs stay valid) unless another process took one. */
async function ensurePortsFree(dir: string, ports: Ports): Promise<Ports> {
  const next = { ...ports };
  let changed = false;
  for (const key of Object.keys(next) as (keyof Ports)[]) {
    if (!(await portIsFree(next[key]))) {
      next[key] = await freePort();
      changed = true;
    }
  }
  if (changed) await writeFile(join(dir, "ports.json"), JSON.stringify(next));
  return next;
}
