import { describe, expect, it } from "vitest";
import {
  BootstrapInputError,
  fieldPath,
  kubeletLabelProblem,
  parseWorkerPool,
  validateWorkerPool,
} from "./model.ts";

const CA = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
const base = () => ({
  apiVersion: "bootstrap.sprout.gardener.cloud/v1alpha1",
  kind: "WorkerPool",
  name: "pool-a",
  cluster: { server: "https://api.example.test:6443", caPem: CA },
});

function errorOf(input: unknown): BootstrapInputError {
  try {
    validateWorkerPool(input);
  } catch (err) {
    if (err instanceof BootstrapInputError) return err;
    throw err;
  }
  throw new Error("expected the pool to be rejected");
}

describe("worker pool validation", () => {
  it("fills defaults", () => {
    const pool = validateWorkerPool(base());
    expect(pool.kubelet).toMatchObject({ path: "/opt/bin/kubelet", labels: {}, taints: [], extraArgs: [] });
    expect(pool.containerd).toMatchObject({ configVersion: 2, sandboxImage: "registry.k8s.io/pause:3.10" });
    expect(pool.cluster.domain).toBe("cluster.local");
    expect(pool.os.files).toEqual([]);
  });

  it.each([
    ["a missing server", { cluster: { caPem: CA } }, "cluster.server", "is required"],
    [
      "a server that is no URL",
      { cluster: { server: "api:6443", caPem: CA } },
      "cluster.server",
      "http(s) URL",
    ],
    ["a CA that is no PEM", { cluster: { server: "https://a", caPem: "abc" } }, "cluster.caPem", "PEM"],
    ["an unknown field", { kubelet: { lables: {} } }, "kubelet.lables", "unknown field"],
    [
      "a bad taint effect",
      { kubelet: { taints: [{ key: "a", effect: "Never" }] } },
      "kubelet.taints[0].effect",
      "NoSchedule",
    ],
    [
      "a relative file path",
      { os: { files: [{ path: "etc/x", content: "" }] } },
      "os.files[0].path",
      "absolute",
    ],
    [
      "a decimal mode",
      { os: { files: [{ path: "/x", permissions: "644x" }] } },
      "os.files[0].permissions",
      "octal",
    ],
    ["a flag with a space", { kubelet: { extraArgs: ["--v=2 --x"] } }, "kubelet.extraArgs[0]", "one flag"],
    [
      "containerd config version 1",
      { containerd: { configVersion: 1 } },
      "containerd.configVersion",
      "must be 2",
    ],
    ["a pool name with capitals", { name: "Pool" }, "name", "DNS label"],
    ["an unknown apiVersion", { apiVersion: "v1" }, "apiVersion", "bootstrap.sprout.gardener.cloud/v1alpha1"],
    ["a quote in a proxy URL", { os: { proxy: { http: 'http://p"x' } } }, "os.proxy.http", "URL"],
    [
      "a mirror list that is empty",
      { containerd: { registries: [{ host: "docker.io", mirrors: [] }] } },
      "containerd.registries[0].mirrors",
      "",
    ],
  ])("rejects %s, naming the field", (_, patch, field, text) => {
    const err = errorOf({ ...base(), ...patch });
    expect(err.field).toBe(field);
    expect(err.message.startsWith(`${field}: `)).toBe(true);
    expect(err.message.toLowerCase()).toContain(text.toLowerCase());
  });

  it.each([
    [
      'kubelet.labels["node-role.kubernetes.io/worker"]',
      { kubelet: { labels: { "node-role.kubernetes.io/worker": "" } } },
    ],
    ['kubelet.labels["bad key!"]', { kubelet: { labels: { "bad key!": "x" } } }],
    ['os.sysctls["not a sysctl"]', { os: { sysctls: { "not a sysctl": "1" } } }],
    ["os.files[1]", { os: { files: [{ path: "/a" }, { path: "/a" }] } }],
    ["os.files[0]", { os: { files: [{ path: "/a", content: "x", contentBase64: "eA==" }] } }],
    ["os.units[1]", { os: { units: [{ name: "a.service" }, { name: "a.service" }] } }],
    ["kubelet.config.kind", { kubelet: { config: { kind: "Other" } } }],
  ])("rejects %s", (field, patch) => {
    expect(errorOf({ ...base(), ...patch }).field).toBe(field);
  });

  it("reports YAML syntax errors by line without quoting the text", () => {
    expect(() => parseWorkerPool("name: [\nsecret: hunter2: x")).toThrow(
      /^worker pool is not valid YAML at line \d/,
    );
    try {
      parseWorkerPool("name: [\nsecret: hunter2: x");
    } catch (err) {
      expect(String(err)).not.toContain("hunter2");
    }
  });
});

describe("kubelet node labels", () => {
  it.each([
    ["example.com/team", undefined],
    ["worker.gardener.cloud/pool", undefined],
    ["node.kubernetes.io/role", undefined],
    ["kubelet.kubernetes.io/x", undefined],
    ["topology.kubernetes.io/zone", undefined],
    ["node-role.kubernetes.io/worker", "may not set"],
    ["kubernetes.io/role", "may not set"],
    ["example.k8s.io/x", "may not set"],
  ])("%s", (key, problem) => {
    const got = kubeletLabelProblem(key);
    if (problem === undefined) expect(got).toBeUndefined();
    else expect(got).toContain(problem);
  });
});

describe("fieldPath", () => {
  it("turns JSON pointers into field paths", () => {
    expect(fieldPath("/kubelet/taints/0/effect")).toBe("kubelet.taints[0].effect");
    expect(fieldPath("/kubelet/labels/a~1b")).toBe("kubelet.labels.a/b");
    expect(fieldPath("")).toBe("");
  });
});
