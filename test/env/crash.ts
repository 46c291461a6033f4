import type { ChildProcess } from "node:child_process";
import { setTimeout as sleep } from "node:timers/promises";

/** SIGKILL to a child that still runs, resolved once it has exited. */
export async function killNow(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGKILL");
  await exited;
}

/**
 * `kills` times: start the controller, let it run for a random time in [minMs, maxMs), kill it with
 * SIGKILL, then check what must hold after any kill (e.g. no two VMs for one machine).
 */
export async function crashLoop(opts: {
  kills: number;
  start: () => ChildProcess;
  check: () => Promise<void>;
  minMs: number;
  maxMs: number;
}): Promise<void> {
  for (let i = 0; i < opts.kills; i++) {
    const child = opts.start();
    // Chaos, not synchronisation: the kill lands at a random moment of whatever the controller does.
    await sleep(opts.minMs + Math.random() * (opts.maxMs - opts.minMs));
    await killNow(child);
    await opts.check();
  }
}
