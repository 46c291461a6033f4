import { type ChildProcess, spawn } from "node:child_process";
import { closeSync, openSync, readFileSync, rmSync } from "node:fs";
import { mkdir, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

/** True when a process with this PID exists. */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

interface PidRecord {
  readonly pid: number;
  readonly owner: number;
  readonly name: string;
}

/** Every child started by this process and not yet stopped; killed when this process exits. */
const live = new Set<ManagedProcess>();
let hooksInstalled = false;

function killAllNow(signal: NodeJS.Signals): void {
  for (const child of live) child.signal(signal);
}

function installExitHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.on("exit", () => killAllNow("SIGKILL"));
  for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    const onSignal = (): void => {
      killAllNow("SIGTERM");
      // When nobody else handles the signal, keep its default meaning: exit.
      if (process.listenerCount(sig) === 1)
        process.exit(128 + (sig === "SIGINT" ? 2 : sig === "SIGTERM" ? 15 : 1));
    };
    process.on(sig, onSignal);
  }
}

export interface ProcessSpec {
  readonly name: string;
  readonly command: string;
  readonly args: readonly string[];
  /** Folder for the log file (<name>.log) and the PID file (pids/<name>.json). */
  readonly dir: string;
  readonly env?: NodeJS.ProcessEnv;
}

/** A child process whose PID is recorded on disk, stopped by PID, and never outlives its owner. */
export class ManagedProcess {
  readonly name: string;
  readonly pid: number;
  readonly logFile: string;
  readonly exited: Promise<number | null>;
  #child: ChildProcess;
  #pidFile: string;
  #exitCode: number | null | undefined;

  private constructor(spec: ProcessSpec, child: ChildProcess, pidFile: string, logFile: string) {
    if (child.pid === undefined) throw new Error(`${spec.name} did not start`);
    this.name = spec.name;
    this.pid = child.pid;
    this.logFile = logFile;
    this.#child = child;
    this.#pidFile = pidFile;
    this.exited = new Promise((resolve) => {
      child.once("exit", (code, signal) => {
        this.#exitCode = code ?? (signal ? -1 : null);
        live.delete(this);
        rmSync(this.#pidFile, { force: true });
        resolve(this.#exitCode);
      });
    });
  }

  static async start(spec: ProcessSpec): Promise<ManagedProcess> {
    installExitHooks();
    await mkdir(join(spec.dir, "pids"), { recursive: true });
    const logFile = join(spec.dir, `${spec.name}.log`);
    const fd = openSync(logFile, "a");
    let child: ChildProcess;
    try {
      child = spawn(spec.command, spec.args, { stdio: ["ignore", fd, fd], env: spec.env ?? process.env });
    } finally {
      closeSync(fd);
    }
    const spawnError = await new Promise<Error | undefined>((resolve) => {
      child.once("spawn", () => resolve(undefined));
      child.once("error", resolve);
    });
    if (spawnError) throw new Error(`cannot start ${spec.name} (${spec.command}): ${spawnError.message}`);
    const pidFile = join(spec.dir, "pids", `${spec.name}.json`);
    const proc = new ManagedProcess(spec, child, pidFile, logFile);
    live.add(proc);
    const record: PidRecord = { pid: proc.pid, owner: process.pid, name: spec.name };
    await writeFile(pidFile, JSON.stringify(record));
    return proc;
  }

  get running(): boolean {
    return this.#exitCode === undefined;
  }

  signal(sig: NodeJS.Signals): void {
    if (this.running) this.#child.kill(sig);
  }

  /** SIGTERM, then SIGKILL after the grace period; resolves once the process is gone. */
  async stop(graceMs = 10_000): Promise<void> {
    if (!this.running) return;
    this.signal("SIGTERM");
    const timedOut = await Promise.race([this.exited.then(() => false), sleep(graceMs).then(() => true)]);
    if (timedOut) {
      this.signal("SIGKILL");
      await this.exited;
    }
  }

  /**
   * Polls `ready` until it answers true. When the process exits first or the timeout passes, stops
   * it and fails with the log's tail. A `ready` that throws counts as not ready yet.
   */
  async waitReady(ready: () => Promise<boolean>, timeoutMs: number, pollMs = 100): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (!this.running) throw new Error(`${this.name} exited during start-up:\n${this.logTail()}`);
      if (await ready().catch(() => false)) return;
      if (Date.now() > deadline) {
        await this.stop();
        throw new Error(`${this.name} was not ready within ${timeoutMs} ms:\n${this.logTail()}`);
      }
      await sleep(pollMs);
    }
  }

  /** The last lines of the process's log, for error messages. */
  logTail(lines = 20): string {
    try {
      return readFileSync(this.logFile, "utf8").split("\n").slice(-lines).join("\n");
    } catch {
      return "";
    }
  }
}

/** A server process listening on loopback: where it answers, and how to stop it. */
export class LoopbackServer {
  readonly endpoint: string;
  readonly process: ManagedProcess;

  constructor(endpoint: string, process: ManagedProcess) {
    this.endpoint = endpoint;
    this.process = process;
  }

  get pid(): number {
    return this.process.pid;
  }

  async stop(): Promise<void> {
    await this.process.stop();
  }
}

/**
 * Kills processes left behind under root/<plane>/pids by owners that died without cleaning up
 * (for example a test runner killed with SIGKILL), and removes those planes' folders when they were
 * throw-away ones (marked by a file named "ephemeral").
 */
export async function sweepOrphans(root: string): Promise<number> {
  let killed = 0;
  const planes = await readdir(root).catch(() => [] as string[]);
  for (const plane of planes) {
    const dir = join(root, plane);
    const pidDir = join(dir, "pids");
    const files = await readdir(pidDir).catch(() => [] as string[]);
    let ownerAlive = false;
    for (const file of files) {
      const record = JSON.parse(
        await readFile(join(pidDir, file), "utf8").catch(() => "{}"),
      ) as Partial<PidRecord>;
      if (record.owner !== undefined && isAlive(record.owner)) {
        ownerAlive = true;
        continue;
      }
      if (record.pid !== undefined && isAlive(record.pid) && commandLineMentions(record.pid, dir)) {
        process.kill(record.pid, "SIGKILL");
        killed++;
      }
      await rm(join(pidDir, file), { force: true });
    }
    const ephemeral = await readFile(join(dir, "ephemeral"), "utf8").then(
      (owner) => !isAlive(Number.parseInt(owner, 10)),
      () => false,
    );
    if (!ownerAlive && ephemeral) await rm(dir, { recursive: true, force: true });
  }
  return killed;
}

/** Guards against PID reuse: only a process whose command line names the plane's folder is ours. */
function commandLineMentions(pid: number, text: string): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").includes(text);
  } catch {
    return false;
  }
}
