import { dump } from "js-yaml";
import { Labels, Placeholders } from "../api/constants.ts";
import type { WorkerPool } from "./model.ts";
import { CONTAINERD_UNIT, KUBELET_UNIT, NodePaths, PROXY_DROP_IN } from "./paths.ts";
import { fill, type Templates } from "./templates.ts";

/** One file on the node. Text stays text so placeholders survive into every format. */
export interface NodeFile {
  readonly path: string;
  readonly content: string | Buffer;
  /** Permission bits, e.g. 0o644. */
  readonly mode: number;
  readonly owner?: { readonly user: string; readonly group?: string };
}

/** One systemd unit: its file (unset for a unit the image ships), drop-ins, and whether to enable it. */
export interface NodeUnit {
  readonly name: string;
  readonly contents?: string;
  readonly enabled: boolean;
  readonly dropIns: readonly { readonly name: string; readonly contents: string }[];
}

/** A file fetched at first boot, checked against its SHA-256. */
export interface NodeDownload {
  readonly path: string;
  readonly url: string;
  readonly sha256: string;
  readonly mode: number;
}

/**
 * What a worker node gets, independent of the user-data format: files, units, downloads, SSH
 * keys and the settings that need applying after the files are written (cloud-config only).
 */
export interface NodeConfig {
  readonly files: readonly NodeFile[];
  readonly units: readonly NodeUnit[];
  readonly downloads: readonly NodeDownload[];
  readonly ssh: { readonly user?: string; readonly authorizedKeys: readonly string[] };
  readonly hasSysctls: boolean;
  readonly hasKernelModules: boolean;
}

const mode = (octal: string): number => Number.parseInt(octal, 8);

function kubeletConfig(pool: WorkerPool, templates: Templates): string {
  const config: Record<string, unknown> = {
    ...templates.kubeletConfig,
    clusterDomain: pool.cluster.domain,
    ...(pool.cluster.dnsIPs.length > 0 ? { clusterDNS: pool.cluster.dnsIPs } : {}),
    ...(pool.kubelet.taints.length > 0 ? { registerWithTaints: pool.kubelet.taints } : {}),
    ...pool.kubelet.config,
  };
  const auth = (config.authentication ?? {}) as Record<string, unknown>;
  config.authentication = { ...auth, x509: { clientCAFile: NodePaths.clusterCa } };
  return dump(config, { lineWidth: -1, noRefs: true });
}

/** The Node labels of a pool's kubelets: the pool label first, then the pool's own (sorted). */
export function nodeLabels(pool: WorkerPool): Record<string, string> {
  const sorted = Object.entries(pool.kubelet.labels).sort(([a], [b]) => a.localeCompare(b));
  return { [Labels.workerPool]: pool.name, ...Object.fromEntries(sorted) };
}

function kubeletFiles(pool: WorkerPool, t: Templates): NodeFile[] {
  const labels = Object.entries(nodeLabels(pool))
    .map(([k, v]) => `${k}=${v}`)
    .join(",");
  return [
    { path: NodePaths.clusterCa, content: ensureNewline(pool.cluster.caPem), mode: 0o644 },
    {
      path: NodePaths.bootstrapKubeconfig,
      content: fill(
        t.bootstrapKubeconfig,
        { server: pool.cluster.server, caFile: NodePaths.clusterCa, token: Placeholders.bootstrapToken },
        "kubelet/bootstrap-kubeconfig.yaml",
      ),
      mode: 0o600,
    },
    { path: NodePaths.kubeletConfig, content: kubeletConfig(pool, t), mode: 0o644 },
    {
      path: NodePaths.kubeletEnv,
      content: fill(
        t.kubeletEnv,
        { nodeLabels: labels, extraArgs: pool.kubelet.extraArgs.join(" ") },
        "kubelet/kubelet.env",
      ),
      mode: 0o644,
    },
  ];
}

function containerdFiles(pool: WorkerPool, t: Templates): NodeFile[] {
  const { configVersion, sandboxImage, registries } = pool.containerd;
  const files: NodeFile[] = [
    {
      path: NodePaths.containerdConfig,
      content: fill(
        t.containerdConfig[configVersion],
        { sandboxImage, certsDir: NodePaths.containerdCertsDir },
        `containerd/config-v${configVersion}.toml`,
      ),
      mode: 0o644,
    },
  ];
  for (const r of registries) {
    const server =
      r.server ?? (r.host === "docker.io" ? "https://registry-1.docker.io" : `https://${r.host}`);
    const hosts = r.mirrors.map((url) => fill(t.containerdHost, { url }, "containerd/host.toml")).join("");
    files.push({
      path: `${NodePaths.containerdCertsDir}/${r.host}/hosts.toml`,
      content: fill(t.containerdHosts, { server }, "containerd/hosts.toml") + hosts,
      mode: 0o644,
    });
  }
  return files;
}

function systemFiles(pool: WorkerPool, t: Templates): NodeFile[] {
  const sysctls = { ...t.defaults.sysctls, ...pool.os.sysctls };
  const modules = [...new Set([...t.defaults.kernelModules, ...pool.os.kernelModules])];
  const files: NodeFile[] = [];
  if (Object.keys(sysctls).length > 0) {
    const lines = Object.entries(sysctls).map(([k, v]) => `${k} = ${String(v)}`);
    files.push({ path: NodePaths.sysctls, content: `${lines.join("\n")}\n`, mode: 0o644 });
  }
  if (modules.length > 0) {
    files.push({ path: NodePaths.kernelModules, content: `${modules.join("\n")}\n`, mode: 0o644 });
  }
  return files;
}

function units(pool: WorkerPool, t: Templates): NodeUnit[] {
  const proxy = pool.os.proxy;
  const proxyDropIns =
    proxy && (proxy.http ?? proxy.https)
      ? [
          {
            name: PROXY_DROP_IN,
            contents: fill(
              t.proxyDropIn,
              { http: proxy.http ?? "", https: proxy.https ?? "", noProxy: proxy.noProxy.join(",") },
              "system/proxy.conf",
            ),
          },
        ]
      : [];
  const kubelet: NodeUnit = {
    name: KUBELET_UNIT,
    contents: fill(
      t.kubeletUnit,
      {
        kubeletPath: pool.kubelet.path,
        kubeletEnv: NodePaths.kubeletEnv,
        kubeletConfig: NodePaths.kubeletConfig,
        bootstrapKubeconfig: NodePaths.bootstrapKubeconfig,
        kubeconfig: NodePaths.kubeconfig,
        certDir: NodePaths.kubeletCertDir,
      },
      "kubelet/kubelet.service",
    ),
    enabled: true,
    dropIns: proxyDropIns,
  };
  const containerd: NodeUnit = { name: CONTAINERD_UNIT, enabled: true, dropIns: proxyDropIns };
  const sprout = [containerd, kubelet];
  const own: NodeUnit[] = pool.os.units.map((u) => {
    const base = sprout.find((s) => s.name === u.name);
    const dropIns = u.dropIns.map((d) => ({ name: d.name, contents: d.content }));
    const contents = u.content ?? base?.contents;
    return {
      name: u.name,
      ...(contents === undefined ? {} : { contents }),
      enabled: u.enabled,
      // The pool's drop-ins add to sprout's; one of the same name replaces sprout's.
      dropIns: [...(base?.dropIns ?? []).filter((d) => !dropIns.some((o) => o.name === d.name)), ...dropIns],
    };
  });
  // A unit of the pool's own is merged with sprout's unit of the same name (its content wins).
  return [...sprout.filter((u) => !own.some((o) => o.name === u.name)), ...own];
}

/**
 * Assembles a validated pool and the cloud-init/ templates into the node's configuration. The
 * pool's own files replace sprout's files at the same path.
 */
export function buildNodeConfig(pool: WorkerPool, templates: Templates): NodeConfig {
  const own: NodeFile[] = pool.os.files.map((f) => ({
    path: f.path,
    content: f.contentBase64 === undefined ? (f.content ?? "") : Buffer.from(f.contentBase64, "base64"),
    mode: mode(f.permissions),
    ...(f.owner ? { owner: ownerOf(f.owner) } : {}),
  }));
  const sprout = [
    ...kubeletFiles(pool, templates),
    ...containerdFiles(pool, templates),
    ...systemFiles(pool, templates),
  ];
  const files = [...sprout.filter((f) => !own.some((o) => o.path === f.path)), ...own];
  const download = pool.kubelet.download;
  return {
    files,
    units: units(pool, templates),
    downloads: download ? [{ path: pool.kubelet.path, ...download, mode: 0o755 }] : [],
    ssh: {
      ...(pool.os.ssh.user ? { user: pool.os.ssh.user } : {}),
      authorizedKeys: pool.os.ssh.authorizedKeys,
    },
    hasSysctls: files.some((f) => f.path === NodePaths.sysctls),
    hasKernelModules: files.some((f) => f.path === NodePaths.kernelModules),
  };
}

function ownerOf(owner: string): { user: string; group?: string } {
  const [user = "root", group] = owner.split(":");
  return group ? { user, group } : { user };
}

function ensureNewline(text: string): string {
  return text.endsWith("\n") ? text : `${text}\n`;
}

/** The path of a unit's file and of its drop-ins (for formats that write units as plain files). */
export const unitPath = (name: string): string => `${NodePaths.systemdUnits}/${name}`;
export const dropInPath = (unit: string, name: string): string =>
  `${NodePaths.systemdUnits}/${unit}.d/${name}`;
