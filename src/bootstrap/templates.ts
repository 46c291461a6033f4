import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { load } from "js-yaml";

/** The data under cloud-init/ that the renderers assemble; loaded once, passed to the pure renderers. */
export interface Templates {
  readonly kubeletConfig: Record<string, unknown>;
  readonly kubeletUnit: string;
  readonly kubeletEnv: string;
  readonly bootstrapKubeconfig: string;
  readonly containerdConfig: { readonly 2: string; readonly 3: string };
  readonly containerdHosts: string;
  readonly containerdHost: string;
  readonly defaults: { readonly sysctls: Record<string, string>; readonly kernelModules: readonly string[] };
  readonly proxyDropIn: string;
  readonly activate: {
    readonly reload: string;
    readonly sysctls: string;
    readonly modules: string;
    readonly enable: string;
  };
}

/** The repository's cloud-init/ folder. */
export const TEMPLATES_DIR = fileURLToPath(new URL("../../cloud-init/", import.meta.url));

function object(value: unknown, file: string): Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new Error(`cloud-init/${file} must hold a YAML mapping`);
  }
  return value as Record<string, unknown>;
}

function strings(value: unknown, file: string, key: string): string[] {
  if (!Array.isArray(value) || !value.every((v) => typeof v === "string")) {
    throw new Error(`cloud-init/${file}: ${key} must be a list of strings`);
  }
  return value;
}

function stringMap(value: unknown, file: string, key: string): Record<string, string> {
  const map = object(value, file);
  for (const [k, v] of Object.entries(map)) {
    if (typeof v !== "string") throw new Error(`cloud-init/${file}: ${key}.${k} must be a string`);
  }
  return map as Record<string, string>;
}

/** Reads the templates from a cloud-init/ folder (the repository's by default). */
export async function loadTemplates(dir = TEMPLATES_DIR): Promise<Templates> {
  const text = (file: string): Promise<string> => readFile(`${dir}/${file}`, "utf8");
  const yaml = async (file: string): Promise<Record<string, unknown>> => object(load(await text(file)), file);
  const defaults = await yaml("system/defaults.yaml");
  const activate = stringMap(await yaml("cloud-config/activate.yaml"), "cloud-config/activate.yaml", "");
  const step = (key: string): string => {
    const v = activate[key];
    if (!v) throw new Error(`cloud-init/cloud-config/activate.yaml: ${key} is missing`);
    return v;
  };
  return {
    kubeletConfig: await yaml("kubelet/config.yaml"),
    kubeletUnit: await text("kubelet/kubelet.service"),
    kubeletEnv: await text("kubelet/kubelet.env"),
    bootstrapKubeconfig: await text("kubelet/bootstrap-kubeconfig.yaml"),
    containerdConfig: {
      2: await text("containerd/config-v2.toml"),
      3: await text("containerd/config-v3.toml"),
    },
    containerdHosts: await text("containerd/hosts.toml"),
    containerdHost: await text("containerd/host.toml"),
    defaults: {
      sysctls: stringMap(defaults.sysctls ?? {}, "system/defaults.yaml", "sysctls"),
      kernelModules: strings(defaults.kernelModules ?? [], "system/defaults.yaml", "kernelModules"),
    },
    proxyDropIn: await text("system/proxy.conf"),
    activate: {
      reload: step("reload"),
      sysctls: step("sysctls"),
      modules: step("modules"),
      enable: step("enable"),
    },
  };
}

/**
 * Fills `{{name}}` in a template. Templates hold no logic, so a tiny substitution is all they need;
 * an unknown name in the template or an unused value is an error, so a typo never ships silently.
 */
export function fill(template: string, values: Readonly<Record<string, string>>, what: string): string {
  const used = new Set<string>();
  const out = template.replace(/\{\{\s*([A-Za-z][A-Za-z0-9]*)\s*\}\}/g, (_, name: string) => {
    const value = values[name];
    if (value === undefined) throw new Error(`template ${what} uses {{${name}}}, which has no value`);
    used.add(name);
    return value;
  });
  const unused = Object.keys(values).filter((k) => !used.has(k));
  if (unused.length > 0) throw new Error(`template ${what} does not use ${unused.join(", ")}`);
  return out;
}
