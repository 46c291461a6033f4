import { describe, expect, it } from "vitest";
import { cacheDir } from "./cache.ts";
import { formatDuration } from "./progress.ts";
import { goTools, pinnedVersion } from "./tools.ts";

describe("pinnedVersion", () => {
  const goMod = [
    "module example/tools",
    "",
    "require k8s.io/kubernetes v1.36.2",
    "",
    "require (",
    "\tgo.etcd.io/etcd/server/v3 v3.6.8",
    "\tk8s.io/kubernetes-extra v9.9.9 // indirect",
    ")",
  ].join("\n");

  it.each([
    ["k8s.io/kubernetes", "v1.36.2"],
    ["go.etcd.io/etcd/server/v3", "v3.6.8"],
  ])("reads the version of %s", (module, version) => {
    expect(pinnedVersion(goMod, module)).toBe(version);
  });

  it("names the module it cannot find", () => {
    expect(() => pinnedVersion(goMod, "k8s.io/api")).toThrow("go.mod does not require k8s.io/api");
  });

  it("matches the committed wrapper modules", async () => {
    const { readFile } = await import("node:fs/promises");
    for (const tool of Object.values(goTools)) {
      const mod = await readFile(new URL(`../../hack/tools/${tool.module}/go.mod`, import.meta.url), "utf8");
      expect(pinnedVersion(mod, tool.versionModule)).toMatch(/^v\d+\.\d+\.\d+$/);
    }
  });
});

describe("cacheDir", () => {
  it("prefers SPROUT_CACHE, then XDG_CACHE_HOME", () => {
    expect(cacheDir({ SPROUT_CACHE: "/c" })).toBe("/c");
    expect(cacheDir({ XDG_CACHE_HOME: "/x" })).toBe("/x/sprout");
    expect(cacheDir({})).toMatch(/\.cache\/sprout$/);
  });
});

describe("formatDuration", () => {
  it.each([
    [1234, "1.2s"],
    [65_000, "1m05s"],
    [600_000, "10m00s"],
  ])("%d ms -> %s", (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });
});
