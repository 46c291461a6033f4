import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { dump, load } from "js-yaml";
import { afterAll, beforeAll, describe, expect, it, inject } from "vitest";
import { installCrds } from "../../src/cli/install-crds.ts";
import { KubeClient } from "../../src/runtime/client/client.ts";
import { Resources } from "../../src/runtime/client/resources.ts";
import { adminKubeConfig, testNamespace } from "../env/index.ts";
import { createVirtualClass } from "../env/machines.ts";
import { validateUserData } from "../env/validators.ts";

/** `sprout user-data`, run as the real CLI. */

const exec = promisify(execFile);
const FULL_POOL = join(import.meta.dirname, "..", "golden", "bootstrap", "pools", "full.yaml");

let dir: string;
let ns: string;
let client: KubeClient;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "sprout-cli-"));
  ns = await testNamespace("cli");
  const kc = await adminKubeConfig();
  await installCrds(kc);
  client = new KubeClient(kc);
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function sprout(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await exec(process.execPath, ["src/cli/main.ts", "user-data", ...args], {
      maxBuffer: 8 * 1024 * 1024,
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? 1, stdout: e.stdout ?? "", stderr: e.stderr ?? "" };
  }
}

describe("sprout user-data", () => {
  it("renders a pool with the user's own part, as the machine's multipart user data", async () => {
    const script = join(dir, "tune.sh");
    await writeFile(script, "#!/bin/sh\necho tuned\n");
    const out = await sprout(
      "--pool",
      FULL_POOL,
      "--format",
      "multipart",
      "--part",
      script,
      "--machine",
      "m-1",
    );
    expect(out.stderr).toBe("");
    expect(out.code).toBe(0);
    const parts = await validateUserData(out.stdout, "multipart");
    expect(parts.map((p) => p.filename)).toEqual(["sprout.cfg", "tune.sh"]);
    expect(parts[0]?.payload).toContain("Machine m-1.");
    expect(parts[0]?.payload).toContain("<<BOOTSTRAP_TOKEN>>");
  });

  it("prints a Secret for the class, and reads the same user data back from the cluster's MachineClass", async () => {
    const manifest = await sprout(
      ...["--pool", FULL_POOL, "--format", "ignition", "--output", "secret"],
      ...["--secret-name", "pool-a", "--namespace", ns],
    );
    expect(manifest.code).toBe(0);
    const secret = load(manifest.stdout) as { metadata: { name: string }; stringData: { userData: string } };
    expect(secret.metadata.name).toBe("pool-a");
    await validateUserData(secret.stringData.userData, "ignition");
    await client.create(Resources.secrets, secret as never);
    await createVirtualClass(client, ns, "pool-a", { secretRef: "pool-a" });

    const back = await sprout(
      "--machine-class",
      "pool-a",
      "--namespace",
      ns,
      "--kubeconfig",
      inject("kubeconfig"),
    );
    expect(back.code).toBe(0);
    expect(back.stdout).toBe(secret.stringData.userData);

    const files = await sprout(
      ...["--machine-class", "pool-a", "--namespace", ns, "--kubeconfig", inject("kubeconfig")],
      ...["--output", "files", "--machine", "m-2"],
    );
    expect(files.stdout).toMatch(/^# format: ignition; \d+ files\n/);
    expect(files.stdout).toContain("## /etc/motd\nWorker of pool-a. Machine m-2.");
    expect(files.stdout).toContain("## /usr/local/share/example/blob.bin\n(7 bytes, binary)");
  });

  it("reads a MachineClass from a manifest file; credentialsSecretRef's userData wins", async () => {
    const file = join(dir, "class.yaml");
    const docs = [
      {
        apiVersion: "machine.sapcloud.io/v1alpha1",
        kind: "MachineClass",
        metadata: { name: "c" },
        provider: "virtual",
        providerSpec: {},
        secretRef: { name: "base" },
        credentialsSecretRef: { name: "creds" },
      },
      {
        apiVersion: "v1",
        kind: "Secret",
        metadata: { name: "base" },
        stringData: { userData: "#cloud-config\n" },
      },
      {
        apiVersion: "v1",
        kind: "Secret",
        metadata: { name: "creds" },
        data: { userData: Buffer.from("#cloud-config\nhostname: <<MACHINE_NAME>>\n").toString("base64") },
      },
    ];
    await writeFile(file, docs.map((d) => dump(d)).join("---\n"));
    const out = await sprout("--file", file, "--machine", "m-3");
    expect(out.code).toBe(0);
    expect(out.stdout).toBe("#cloud-config\nhostname: m-3\n");
    await validateUserData(out.stdout, "cloud-config");
  });

  it("names the bad field and prints nothing else; never echoes the input", async () => {
    const bad = join(dir, "bad.yaml");
    const pool = (await readFile(FULL_POOL, "utf8")).replace("effect: NoSchedule", "effect: Sometimes");
    await writeFile(bad, pool);
    const out = await sprout("--pool", bad);
    expect(out.code).toBe(1);
    expect(out.stdout).toBe("");
    expect(out.stderr).toBe(
      "sprout: kubelet.taints[0].effect: must be NoSchedule, PreferNoSchedule or NoExecute\n",
    );

    const broken = join(dir, "broken.yaml");
    await writeFile(broken, "name: [\nparts: s3cr3t-value: x\n");
    const syntax = await sprout("--pool", broken);
    expect(syntax.code).toBe(1);
    expect(syntax.stderr).toMatch(/^sprout: worker pool is not valid YAML at line \d+/);
    expect(syntax.stderr).not.toContain("s3cr3t");

    const missing = await sprout(
      "--machine-class",
      "nope",
      "--namespace",
      ns,
      "--kubeconfig",
      inject("kubeconfig"),
    );
    expect(missing.stderr).toBe(`sprout: MachineClass ${ns}/nope does not exist\n`);
    const wrongFormat = await sprout("--pool", FULL_POOL, "--format", "ignition", "--part", bad);
    expect(wrongFormat.stderr).toBe(
      "sprout: extra.parts: only the multipart format carries extra parts, not ignition\n",
    );
  });
});
