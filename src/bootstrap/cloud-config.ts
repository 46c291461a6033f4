import { dump } from "js-yaml";
import { dropInPath, type NodeConfig, type NodeFile, unitPath } from "./node-config.ts";
import type { Templates } from "./templates.ts";

export const CLOUD_CONFIG_HEADER = "#cloud-config";

const octal = (mode: number): string => `0${mode.toString(8).padStart(3, "0")}`;

function writeFile(f: NodeFile): Record<string, unknown> {
  const binary = typeof f.content !== "string";
  return {
    path: f.path,
    ...(binary ? { encoding: "b64", content: f.content.toString("base64") } : { content: f.content }),
    permissions: octal(f.mode),
    ...(f.owner ? { owner: f.owner.group ? `${f.owner.user}:${f.owner.group}` : f.owner.user } : {}),
  };
}

const quote = (s: string): string => `'${s.replace(/'/g, "'\\''")}'`;

/** Shell lines fetching each download and checking its SHA-256 (the node fails to join otherwise). */
function downloadCommands(config: NodeConfig): string[] {
  return config.downloads.map((d) =>
    [
      `mkdir -p ${quote(d.path.slice(0, d.path.lastIndexOf("/")) || "/")}`,
      `curl -fsSL --retry 5 -o ${quote(`${d.path}.download`)} ${quote(d.url)}`,
      `echo ${quote(`${d.sha256}  ${d.path}.download`)} | sha256sum -c -`,
      `chmod ${octal(d.mode)} ${quote(`${d.path}.download`)}`,
      `mv ${quote(`${d.path}.download`)} ${quote(d.path)}`,
    ].join(" && "),
  );
}

/**
 * Renders a node configuration as a `#cloud-config` document. Units and drop-ins are written as
 * files under /etc/systemd/system; runcmd then reloads systemd, applies sysctls and kernel modules
 * and enables the units (cloud-init writes files after boot, unlike Ignition).
 */
export function renderCloudConfig(config: NodeConfig, templates: Templates): string {
  const unitFiles: NodeFile[] = config.units.flatMap((u) => [
    ...(u.contents === undefined ? [] : [{ path: unitPath(u.name), content: u.contents, mode: 0o644 }]),
    ...u.dropIns.map((d) => ({ path: dropInPath(u.name, d.name), content: d.contents, mode: 0o644 })),
  ]);
  const a = templates.activate;
  const enabled = config.units.filter((u) => u.enabled).map((u) => u.name);
  const runcmd = [
    ...downloadCommands(config),
    a.reload,
    // Modules first: bridge sysctls exist only once br_netfilter is loaded.
    ...(config.hasKernelModules ? [a.modules] : []),
    ...(config.hasSysctls ? [a.sysctls] : []),
    ...(enabled.length > 0 ? [`${a.enable} ${enabled.join(" ")}`] : []),
  ];
  const keys = config.ssh.authorizedKeys;
  const ssh =
    keys.length === 0
      ? {}
      : config.ssh.user
        ? {
            users: [
              "default",
              {
                name: config.ssh.user,
                ssh_authorized_keys: [...keys],
                sudo: "ALL=(ALL) NOPASSWD:ALL",
                shell: "/bin/bash",
              },
            ],
          }
        : { ssh_authorized_keys: [...keys] };
  const doc = {
    write_files: [...config.files, ...unitFiles].map(writeFile),
    ...ssh,
    runcmd,
  };
  return `${CLOUD_CONFIG_HEADER}\n${dump(doc, { lineWidth: -1, noRefs: true })}`;
}
