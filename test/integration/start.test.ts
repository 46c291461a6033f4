import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { KubeConfig } from "@kubernetes/client-node";
import { afterAll, describe, expect, it } from "vitest";
import { MachineResources } from "../../src/api/resources.ts";
import type { Machine } from "../../src/api/v1alpha1/machine.ts";
import { repoRoot } from "../../src/localplane/cache.ts";
import { KubeClient } from "../../src/runtime/client/client.ts";
import { Resources } from "../../src/runtime/client/resources.ts";
import { eventually } from "../env/index.ts";
import { validateCloudConfig } from "../env/validators.ts";

let dir = "";
let child: ChildProcess | undefined;

afterAll(async () => {
  if (child?.exitCode === null) child.kill("SIGKILL");
  if (dir) await rm(dir, { recursive: true, force: true });
});

const running = (ms: readonly Machine[]): number =>
  ms.filter((m) => !m.metadata?.deletionTimestamp && m.status?.currentStatus?.phase === "Running").length;

describe("sprout start (the embedded default)", () => {
  it("brings up a seed, the virtual cloud and 3 machines, follows kubectl scale, and stops cleanly", async () => {
    dir = await mkdtemp(join(tmpdir(), "sprout-start-"));
    child = spawn(
      process.execPath,
      ["src/cli/main.ts", "start", "--dir", dir, "--port", "0", "--namespace", "demo"],
      {
        cwd: repoRoot,
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    let out = "";
    child.stdout?.on("data", (b: Buffer) => (out += b.toString()));
    child.stderr?.on("data", () => undefined);
    const exited = new Promise<number | null>((resolve) => child?.once("exit", (code) => resolve(code)));
    await eventually(() => expect(out).toContain("scale machinedeployment workers --replicas=5"), {
      timeoutMs: 120_000,
    });
    expect(out).toContain(`--kubeconfig ${join(dir, "admin.kubeconfig")} -n demo`);

    const kc = new KubeConfig();
    kc.loadFromFile(join(dir, "admin.kubeconfig"));
    const client = new KubeClient(kc);
    const machines = async () => (await client.list<Machine>(MachineResources.machines, "demo")).items;
    await eventually(async () => expect(running(await machines())).toBe(3), { timeoutMs: 60_000 });
    await eventually(() => expect(out).toContain("machines: 3 (Running 3)"));
    // The sample class's user data is sprout's cloud-config for the seed; its kubelets joined with it.
    const secret = await client.get<{ data?: Record<string, string> }>(
      Resources.secrets,
      "demo",
      "worker-userdata",
    );
    await validateCloudConfig(Buffer.from(secret.data?.userData ?? "", "base64").toString());

    // What `kubectl scale machinedeployment workers --replicas=4` sends: the scale subresource.
    await client.patch(
      MachineResources.machineDeployments,
      "demo",
      "workers",
      { spec: { replicas: 4 } },
      "merge",
      "scale",
    );
    await eventually(async () => expect(running(await machines())).toBe(4), { timeoutMs: 60_000 });
    await eventually(() => expect(out).toContain("machines: 4 (Running 4)"));

    child.kill("SIGINT");
    expect(await exited).toBe(0);
    const left = execFileSync("ps", ["-eo", "args"], { encoding: "utf8" })
      .split("\n")
      .filter((line) => line.includes(dir));
    expect(left).toEqual([]);
  }, 300_000);
});
