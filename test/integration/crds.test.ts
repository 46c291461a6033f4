import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { CustomObjectsApi, type KubeConfig } from "@kubernetes/client-node";
import { load } from "js-yaml";
import { beforeAll, describe, expect, it } from "vitest";
import { GROUP, VERSION } from "../../src/api/constants.ts";
import { crds, type JsonSchema } from "../../src/api/crd.ts";
import { installCrds } from "../../src/cli/install-crds.ts";
import { goModuleDir } from "../../src/localplane/tools.ts";
import { adminKubeConfig, testNamespace } from "../env/index.ts";
import { schemaPaths } from "../env/schema-paths.ts";

let kc: KubeConfig;
let custom: CustomObjectsApi;
let ns: string;
let mcmDir: string;

beforeAll(async () => {
  kc = await adminKubeConfig();
  await installCrds(kc);
  custom = kc.makeApiClient(CustomObjectsApi);
  ns = await testNamespace("crds");
  mcmDir = await goModuleDir("mcm", "github.com/gardener/machine-controller-manager");
});

type Crd = {
  metadata: { name: string };
  spec: {
    names: { shortNames?: string[]; kind: string };
    versions: {
      schema: { openAPIV3Schema: JsonSchema };
      subresources?: Record<string, Record<string, string>>;
      additionalPrinterColumns?: { name: string; jsonPath: string }[];
    }[];
  };
};

async function mcmCrds(): Promise<Crd[]> {
  const dir = join(mcmDir, "kubernetes", "crds");
  const files = (await readdir(dir)).filter((f) => f.endsWith(".yaml"));
  return Promise.all(files.map(async (f) => load(await readFile(join(dir, f), "utf8")) as Crd));
}

const plural = (kind: string): string =>
  kind === "MachineClass" ? "machineclasses" : `${kind.toLowerCase()}s`;

describe("compatibility with Gardener MCM v0.62.1's CRDs", () => {
  it("has every property path of MCM's schemas, with the same type and format", async () => {
    const ours = new Map((crds() as unknown as Crd[]).map((c) => [c.metadata.name, c]));
    const theirs = await mcmCrds();
    expect(theirs.map((c) => c.metadata.name).sort()).toEqual([...ours.keys()].sort());
    for (const mcm of theirs) {
      const mine = ours.get(mcm.metadata.name);
      const expected = schemaPaths(mcm.spec.versions[0]?.schema.openAPIV3Schema ?? {});
      const actual = schemaPaths(mine?.spec.versions[0]?.schema.openAPIV3Schema ?? {});
      const missing = [...expected].filter(([path, type]) => actual.get(path) !== type);
      expect(missing, `${mcm.metadata.name}: paths missing or typed differently`).toEqual([]);
      expect(mine?.spec.names.shortNames).toEqual(mcm.spec.names.shortNames);
      const columns = (c: Crd | undefined) =>
        (c?.spec.versions[0]?.additionalPrinterColumns ?? []).map((col) => `${col.name}=${col.jsonPath}`);
      expect(columns(mine)).toEqual(expect.arrayContaining(columns(mcm)));
      const sub = mcm.spec.versions[0]?.subresources ?? {};
      for (const [name, value] of Object.entries(sub)) {
        expect(mine?.spec.versions[0]?.subresources?.[name]).toMatchObject(value);
      }
    }
  });

  it.each(["machine-deployment.yaml", "machine-set.yaml"])(
    "accepts MCM's sample %s and reads it back unchanged",
    async (file) => {
      const sample = load(await readFile(join(mcmDir, "kubernetes", "machine_objects", file), "utf8")) as {
        kind: string;
        metadata: { name: string; namespace?: string; labels?: Record<string, string> };
        spec: unknown;
      };
      sample.metadata.namespace = ns;
      const created = (await custom.createNamespacedCustomObject({
        group: GROUP,
        version: VERSION,
        namespace: ns,
        plural: plural(sample.kind),
        body: sample,
      })) as typeof sample;
      expect(created.spec).toEqual(sample.spec);
      const read = (await custom.getNamespacedCustomObject({
        group: GROUP,
        version: VERSION,
        namespace: ns,
        plural: plural(sample.kind),
        name: sample.metadata.name,
      })) as typeof sample;
      expect(read.spec).toEqual(sample.spec);
      expect(read.metadata.labels).toEqual(sample.metadata.labels);
    },
  );
});
