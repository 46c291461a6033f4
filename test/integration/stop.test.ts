import { execFileSync, spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { delimiter, dirname, join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { repoRoot } from "../../src/localplane/cache.ts";
import { eventually } from "../env/index.ts";

/** Every process below pid, from the process table. */
function descendants(pid: number): { pid: number; args: string }[] {
  const rows = execFileSync("ps", ["-eo", "pid=,ppid=,args="], { encoding: "utf8" })
    .split("\n")
    .map((line) => /^\s*(\d+)\s+(\d+)\s+(.*)$/.exec(line))
    .flatMap((m) => (m ? [{ pid: Number(m[1]), ppid: Number(m[2]), args: m[3] ?? "" }] : []));
  const out: { pid: number; args: string }[] = [];
  const queue = [pid];
  while (queue.length > 0) {
    const parent = queue.shift();
    for (const row of rows.filter((r) => r.ppid === parent)) {
      out.push({ pid: row.pid, args: row.args });
      queue.push(row.pid);
    }
  }
  return out;
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

describe("stopping npm start", () => {
  it.each(["SIGTERM", "SIGINT"] as const)(
    "%s to npm alone stops sprout and everything it started, with exit 0",
    async (signal) => {
      const dir = await mkdtemp(join(tmpdir(), "sprout-stop-"));
      dirs.push(dir);
      // npm runs under the same Node.js as this test, as hack/run.sh arranges for the README command.
      const env = {
        ...process.env,
        PATH: `${dirname(process.execPath)}${delimiter}${process.env.PATH ?? ""}`,
      };
      const npm = spawn(
        "npm",
        ["start", "--", "--dir", dir, "--port", "0", "--namespace", "stop", "--sample=false", "--view=false"],
        { cwd: repoRoot, env, stdio: ["ignore", "pipe", "pipe"] },
      );
      let out = "";
      npm.stdout.on("data", (b: Buffer) => (out += b.toString()));
      npm.stderr.on("data", (b: Buffer) => (out += b.toString()));
      const exited = new Promise<number | null>((resolve) => npm.once("exit", resolve));
      const npmPid = npm.pid ?? 0;
      let started: { pid: number; args: string }[] = [];
      try {
        await eventually(() => expect(out).toContain("sprout is running"), { timeoutMs: 120_000 });
        started = descendants(npmPid);
        const names = started.map((p) => p.args).join("\n");
        for (const part of ["src/cli/main.ts start", "etcd", "kube-apiserver", "kube-controller-manager"]) {
          expect(names).toContain(part);
        }
        // The chain npm → bash hack/run.sh → node is exec'd down: node is npm's own child.
        expect(descendants(npmPid)[0]?.args).toMatch(/^node .*src\/cli\/main\.ts start/);

        npm.kill(signal);
        expect(await exited).toBe(0);
        await eventually(() => expect(started.filter((p) => alive(p.pid))).toEqual([]), {
          timeoutMs: 15_000,
        });
      } finally {
        for (const p of [{ pid: npmPid }, ...started]) if (alive(p.pid)) process.kill(p.pid, "SIGKILL");
      }
    },
    180_000,
  );
});
