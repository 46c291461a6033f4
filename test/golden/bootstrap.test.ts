import { existsSync } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { nodeJoinOf } from "../../src/bootstrap/join.ts";
import { parseWorkerPool } from "../../src/bootstrap/model.ts";
import { substitutePlaceholders } from "../../src/bootstrap/placeholders.ts";
import { readUserData } from "../../src/bootstrap/read.ts";
import { renderWorkerUserData, type UserDataFormatName } from "../../src/bootstrap/render.ts";
import { loadTemplates, type Templates } from "../../src/bootstrap/templates.ts";
import {
  cloudInitParts,
  validateCloudConfig,
  validateIgnition,
  validateUserData,
} from "../env/validators.ts";

/**
 * Golden files of every worker-pool render, each checked by the real validators. UPDATE_GOLDEN=1
 * rewrites the golden files from the current renderers (then review the diff).
 */

const DIR = join(import.meta.dirname, "bootstrap");
const UPDATE = process.env.UPDATE_GOLDEN === "1";
const EXT: Record<UserDataFormatName, string> = {
  "cloud-config": "cloud-config.yaml",
  ignition: "ign",
  multipart: "mime",
};

const CASES: readonly [string, UserDataFormatName][] = [
  ["minimal", "cloud-config"],
  ["minimal", "ignition"],
  ["minimal", "multipart"],
  ["full", "cloud-config"],
  ["full", "ignition"],
  ["full", "multipart"],
  ["with-parts", "multipart"],
  ["with-butane", "ignition"],
];

let templates: Templates;
beforeAll(async () => {
  templates = await loadTemplates();
});

async function render(pool: string, format: UserDataFormatName): Promise<string> {
  return renderWorkerUserData(
    parseWorkerPool(await readFile(join(DIR, "pools", `${pool}.yaml`), "utf8")),
    format,
    templates,
  );
}

describe.each(CASES)("pool %s as %s", (pool, format) => {
  const golden = join(DIR, `${pool}.${EXT[format]}`);

  it("matches its golden file", async () => {
    const out = await render(pool, format);
    if (UPDATE || !existsSync(golden)) {
      if (!UPDATE) throw new Error(`${golden} is missing; run with UPDATE_GOLDEN=1 and review it`);
      await writeFile(golden, out);
    }
    expect(out).toBe(await readFile(golden, "utf8"));
  });

  it("passes the real validator, before and after the machine controller fills the placeholders", async () => {
    const out = await render(pool, format);
    await validateUserData(out, format);
    const filled = substitutePlaceholders(out, "abcdef.0123456789abcdef", "machine-1");
    expect(filled).not.toContain("<<");
    expect(filled).not.toContain("%3C%3C");
    await validateUserData(filled, format);
  });

  it("reads back as a node boots it: bootstrap kubeconfig, token, CA, labels", async () => {
    const filled = substitutePlaceholders(await render(pool, format), "abcdef.0123456789abcdef", "machine-1");
    const view = readUserData(filled);
    expect(view.format).toBe(format);
    const join = nodeJoinOf(view);
    expect(join).toMatchObject({
      source: "/var/lib/kubelet/bootstrap-kubeconfig",
      token: "abcdef.0123456789abcdef",
      server: "https://api.example.test:6443",
    });
    expect(join?.caPem).toContain("-----BEGIN CERTIFICATE-----");
    expect(join?.labels["worker.gardener.cloud/pool"]).toBe(pool === "full" ? "pool-a" : pool);
  });
});

describe("what cloud-init and Ignition make of the renders", () => {
  it("cloud-init reads sprout's part first and the user's parts in order, merging lists", async () => {
    const parts = await cloudInitParts(await render("with-parts", "multipart"));
    expect(parts.map((p) => [p.type, p.filename])).toEqual([
      ["text/cloud-config", "sprout.cfg"],
      ["text/x-shellscript", "hardening.sh"],
      ["text/cloud-config", "part-002"],
    ]);
    expect(parts[2]?.mergeType).toBe("list(append)+dict(recurse_array)+str()");
    expect(parts[0]?.payload).toContain("<<BOOTSTRAP_TOKEN>>");
  });

  it("full pool: labels, taints, kubelet settings, mirrors, proxy and units land where the kubelet reads them", async () => {
    const view = readUserData(await render("full", "ignition"));
    const file = (p: string): string => view.files.get(p)?.toString("utf8") ?? "";
    expect(file("/etc/kubernetes/kubelet.env")).toContain(
      "KUBELET_NODE_LABELS=worker.gardener.cloud/pool=pool-a,example.com/team=payments,node.kubernetes.io/role=worker",
    );
    expect(file("/var/lib/kubelet/config.yaml")).toContain("maxPods: 64");
    expect(file("/etc/containerd/certs.d/docker.io/hosts.toml")).toContain(
      'server = "https://registry-1.docker.io"',
    );
    expect(file("/etc/sysctl.d/99-kubernetes.conf")).toContain("fs.inotify.max_user_watches = 524288");
    expect(view.files.get("/usr/local/share/example/blob.bin")).toEqual(
      Buffer.from([0, 1, ...Buffer.from("hello")]),
    );
    const join = nodeJoinOf(view);
    expect(join?.taints).toEqual([{ key: "example.com/dedicated", value: "payments", effect: "NoSchedule" }]);
    const config = JSON.parse(await render("full", "ignition")) as {
      systemd: { units: { name: string; dropins?: { name: string }[] }[] };
    };
    const containerd = config.systemd.units.find((u) => u.name === "containerd.service");
    expect(containerd?.dropins?.map((d) => d.name)).toEqual(["http-proxy.conf", "20-memory.conf"]);
  });

  it("Butane-like input: the user's file replaces sprout's at the same path, units merge, version stays 3.4.0", async () => {
    const config = JSON.parse(await render("with-butane", "ignition")) as {
      ignition: { version: string };
      storage: { files: { path: string; mode: number }[] };
      systemd: { units: { name: string; dropins?: { name: string }[] }[] };
      kernelArguments: { shouldExist: string[] };
    };
    expect(config.ignition.version).toBe("3.4.0");
    expect(config.storage.files.filter((f) => f.path === "/etc/containerd/config.toml")).toHaveLength(1);
    expect(config.storage.files.find((f) => f.path === "/etc/example/agent.conf")?.mode).toBe(0o640);
    expect(
      config.systemd.units.find((u) => u.name === "kubelet.service")?.dropins?.map((d) => d.name),
    ).toEqual(["30-cpu.conf"]);
    expect(config.kernelArguments.shouldExist).toEqual(["systemd.unified_cgroup_hierarchy=1"]);
    const view = readUserData(JSON.stringify(config));
    expect(view.files.get("/etc/containerd/config.toml")?.toString()).toContain("the user's own");
  });
});

describe("the validators can fail", () => {
  it("cloud-init schema rejects a bad cloud-config", async () => {
    await expect(
      validateCloudConfig("#cloud-config\nwrite_files:\n  - path: /x\n    permissions: 600\n"),
    ).rejects.toThrow(/permissions: 600 is not of type 'string'/);
  });

  it("ignition-validate rejects a bad Ignition config", async () => {
    await expect(
      validateIgnition('{"ignition":{"version":"3.4.0"},"storage":{"files":[{"path":"etc/x"}]}}'),
    ).rejects.toThrow(/ignition-validate rejected/);
  });

  it("a multipart with an invalid cloud-config part fails", async () => {
    const mime = (await render("with-parts", "multipart")).replace(
      "runcmd:\n  - [systemctl",
      "runcmd: 5\n  - [systemctl",
    );
    await expect(validateUserData(mime, "multipart")).rejects.toThrow();
  });
});
