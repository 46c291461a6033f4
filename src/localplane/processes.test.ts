import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
// eslint-disable-next-line no-restricted-imports -- the lock test's holders keep it for a while: a workload, not a wait
import { setTimeout as sleep } from "node:timers/promises";
import { afterEach, describe, expect, it, vi } from "vitest";
import { withFileLock } from "./lock.ts";
import { isAlive, ManagedProcess, sweepOrphans } from "./processes.ts";

const dirs: string[] = [];
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "sprout-proc-"));
  dirs.push(dir);
  return dir;
}
afterEach(async () => {
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

describe("ManagedProcess", () => {
  it("records its PID, logs to a file and is gone after stop", async () => {
    const dir = await tempDir();
    const proc = await ManagedProcess.start({
      name: "sleeper",
      command: "sh",
      args: ["-c", "echo hi; sleep 60"],
      dir,
    });
    expect(isAlive(proc.pid)).toBe(true);
    expect(existsSync(join(dir, "pids", "sleeper.json"))).toBe(true);
    await proc.stop();
    expect(isAlive(proc.pid)).toBe(false);
    expect(existsSync(join(dir, "pids", "sleeper.json"))).toBe(false);
    expect(proc.logTail()).toContain("hi");
  });

  it("kills a process that ignores SIGTERM after the grace period", async () => {
    const dir = await tempDir();
    const proc = await ManagedProcess.start({
      name: "stubborn",
      command: "sh",
      args: ["-c", "trap '' TERM; echo ready; while :; do sleep 0.1; done"],
      dir,
    });
    await vi.waitFor(() => expect(proc.logTail()).toContain("ready"), { timeout: 10_000, interval: 20 });
    await proc.stop(300);
    expect(isAlive(proc.pid)).toBe(false);
  });

  it("waits until ready, and fails with the log when the process dies or never gets ready", async () => {
    const dir = await tempDir();
    const quick = await ManagedProcess.start({ name: "quick", command: "sleep", args: ["60"], dir });
    let polls = 0;
    await quick.waitReady(() => Promise.resolve(++polls >= 3), 5_000, 10);
    expect(polls).toBe(3);
    await quick.stop();

    const dying = await ManagedProcess.start({
      name: "dying",
      command: "sh",
      args: ["-c", "echo bad flag; exit 3"],
      dir,
    });
    await expect(dying.waitReady(() => Promise.resolve(false), 5_000, 10)).rejects.toThrow(
      /dying exited during start-up:\n.*bad flag/s,
    );

    const slow = await ManagedProcess.start({ name: "slow", command: "sleep", args: ["60"], dir });
    await expect(slow.waitReady(async () => Promise.reject(new Error("refused")), 200, 10)).rejects.toThrow(
      /slow was not ready within 200 ms/,
    );
    expect(isAlive(slow.pid)).toBe(false);
  });

  it("reports a command that cannot start", async () => {
    await expect(
      ManagedProcess.start({ name: "x", command: "/nonexistent/binary", args: [], dir: await tempDir() }),
    ).rejects.toThrow(/cannot start x/);
  });
});

describe("sweepOrphans", () => {
  it("kills children whose owner died and removes throw-away folders", async () => {
    const root = await tempDir();
    const plane = join(root, "p1");
    await mkdir(join(plane, "pids"), { recursive: true });
    // An owner PID that no longer exists: a short-lived child that has exited.
    const gone = spawn("true");
    await new Promise((resolve) => gone.once("exit", resolve));
    const deadOwner = gone.pid ?? 0;
    const orphan = spawn("sh", ["-c", `sleep 60 # ${plane}`], { stdio: "ignore" });
    const orphanExit = new Promise((resolve) => orphan.once("exit", (_code, signal) => resolve(signal)));
    await writeFile(
      join(plane, "pids", "x.json"),
      JSON.stringify({ pid: orphan.pid, owner: deadOwner, name: "x" }),
    );
    await writeFile(join(plane, "ephemeral"), String(deadOwner));
    expect(await sweepOrphans(root)).toBe(1);
    expect(await orphanExit).toBe("SIGKILL");
    expect(existsSync(plane)).toBe(false);
  });

  it("leaves planes of a live owner alone", async () => {
    const root = await tempDir();
    const plane = join(root, "p2");
    await mkdir(join(plane, "pids"), { recursive: true });
    const child = spawn("sh", ["-c", `sleep 60 # ${plane}`], { stdio: "ignore" });
    await writeFile(
      join(plane, "pids", "x.json"),
      JSON.stringify({ pid: child.pid, owner: process.pid, name: "x" }),
    );
    await writeFile(join(plane, "ephemeral"), String(process.pid));
    expect(await sweepOrphans(root)).toBe(0);
    expect(existsSync(plane)).toBe(true);
    child.kill("SIGKILL");
  });
});

describe("withFileLock", () => {
  it("never lets two holders in at once", async () => {
    const lock = join(await tempDir(), "x.lock");
    let inside = 0;
    let maxInside = 0;
    const holder = async (): Promise<void> =>
      withFileLock(lock, async () => {
        inside++;
        maxInside = Math.max(maxInside, inside);
        // Held for a while, so the other holders try to take it meanwhile.
        await sleep(30);
        inside--;
      });
    await Promise.all([holder(), holder(), holder()]);
    expect(maxInside).toBe(1);
    expect(existsSync(lock)).toBe(false);
  });

  it("takes over a lock whose owner is gone", async () => {
    const lock = join(await tempDir(), "y.lock");
    await writeFile(lock, "999999999");
    expect(await withFileLock(lock, () => Promise.resolve("ran"))).toBe("ran");
  });
});
