import { randomBytes } from "node:crypto";
import { readFile, rename, writeFile } from "node:fs/promises";
import type { CloudError, CreateVmInput, Faults, Vm } from "./types.ts";
import { DEFAULT_FAULTS, MACHINE_TYPES } from "./types.ts";

/** A failed cloud call: HTTP status and error body. */
export class CloudFailure extends Error {
  readonly status: number;
  readonly body: CloudError;

  constructor(status: number, code: CloudError["code"], message: string) {
    super(message);
    this.status = status;
    this.body = { code, message };
  }
}

const TERMINATED_RETENTION_MS = 10 * 60_000;

/**
 * The virtual cloud's state and rules: VMs by id, idempotent create by name, quota, injected
 * latency, failures and throttling, and a state file rewritten after every change so VMs outlive a
 * restart of the cloud process.
 */
export class VirtualCloud {
  readonly faults: Faults = { ...DEFAULT_FAULTS };
  readonly #vms = new Map<string, Vm>();
  readonly #stateFile: string | undefined;
  readonly #random: () => number;
  #version = 0;
  #waiters: (() => void)[] = [];
  #saving: Promise<void> = Promise.resolve();
  #saveQueued = false;

  constructor(opts: { stateFile?: string; random?: () => number } = {}) {
    this.#stateFile = opts.stateFile;
    this.#random = opts.random ?? Math.random;
  }

  async load(): Promise<void> {
    if (!this.#stateFile) return;
    const text = await readFile(this.#stateFile, "utf8").catch(() => undefined);
    if (!text) return;
    const state = JSON.parse(text) as { version: number; vms: Vm[] };
    for (const vm of state.vms) {
      // A create or delete that was in flight when the process stopped completes now.
      if (vm.state === "pending") vm.state = "running";
      this.#vms.set(vm.id, vm);
    }
    this.#version = state.version;
  }

  get version(): number {
    return this.#version;
  }

  /** True with the configured probability of losing a create's answer. */
  loseAnswer(): boolean {
    return this.faults.lostAnswerRate > 0 && this.#random() < this.faults.lostAnswerRate;
  }

  /** Throws a 429 with the configured probability. */
  maybeThrottle(): void {
    if (this.faults.throttleRate > 0 && this.#random() < this.faults.throttleRate) {
      throw new CloudFailure(429, "Throttled", "request rate exceeded; retry later");
    }
  }

  async create(
    input: CreateVmInput,
    sleep: (ms: number) => Promise<void>,
  ): Promise<{ vm: Vm; created: boolean }> {
    if (!input.name) throw new CloudFailure(400, "InvalidParameter", "name is required");
    if (!MACHINE_TYPES[input.machineType]) {
      throw new CloudFailure(400, "InvalidParameter", `unknown machineType "${input.machineType}"`);
    }
    const existing = input.clientToken
      ? [...this.#vms.values()].find((v) => v.clientToken === input.clientToken && v.state !== "terminated")
      : undefined;
    if (existing) return { vm: existing, created: false };
    if (this.faults.failureRate > 0 && this.#random() < this.faults.failureRate) {
      throw new CloudFailure(500, "InternalError", "injected failure while creating the VM");
    }
    const live = [...this.#vms.values()].filter((v) => v.state !== "terminated").length;
    if (this.faults.quota >= 0 && live >= this.faults.quota) {
      throw new CloudFailure(409, "QuotaExceeded", `quota of ${this.faults.quota} VMs reached`);
    }
    const vm: Vm = {
      id: `vm-${randomBytes(6).toString("hex")}`,
      name: input.name,
      zone: input.zone,
      machineType: input.machineType,
      tags: { ...input.tags },
      userData: input.userData ?? "",
      ...(input.clientToken ? { clientToken: input.clientToken } : {}),
      state: "pending",
      launchTime: new Date().toISOString(),
      version: 0,
    };
    this.#vms.set(vm.id, vm);
    this.#changed(vm);
    if (this.faults.createLatencyMs > 0) await sleep(this.faults.createLatencyMs);
    if (vm.state === "pending") {
      vm.state = "running";
      this.#changed(vm);
    }
    return { vm, created: true };
  }

  get(id: string): Vm {
    const vm = this.#vms.get(id);
    if (!vm || vm.state === "terminated") throw new CloudFailure(404, "NotFound", `VM ${id} not found`);
    return vm;
  }

  /** VMs that are not terminated, filtered by name and tags. */
  find(filter: { name?: string; tags?: Record<string, string> }): Vm[] {
    return [...this.#vms.values()].filter(
      (vm) =>
        vm.state !== "terminated" &&
        (filter.name === undefined || vm.name === filter.name) &&
        Object.entries(filter.tags ?? {}).every(([k, v]) => vm.tags[k] === v),
    );
  }

  async delete(id: string, sleep: (ms: number) => Promise<void>): Promise<void> {
    const vm = this.get(id);
    if (this.faults.deleteLatencyMs > 0) await sleep(this.faults.deleteLatencyMs);
    vm.state = "terminated";
    vm.terminatedTime = new Date().toISOString();
    this.#changed(vm);
  }

  /** Every VM (terminated ones included) changed after `since`; waits up to waitMs for one. */
  async changes(since: number, waitMs: number): Promise<{ version: number; vms: Vm[] }> {
    if (this.#version <= since && waitMs > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, waitMs);
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return { version: this.#version, vms: [...this.#vms.values()].filter((vm) => vm.version > since) };
  }

  #changed(vm: Vm): void {
    vm.version = ++this.#version;
    this.#purge();
    for (const wake of this.#waiters.splice(0)) wake();
    this.#save();
  }

  #purge(): void {
    const cutoff = Date.now() - TERMINATED_RETENTION_MS;
    for (const [id, vm] of this.#vms) {
      if (vm.terminatedTime && Date.parse(vm.terminatedTime) < cutoff) this.#vms.delete(id);
    }
  }

  /** Writes the state file (atomically; coalescing bursts of changes into one write). */
  #save(): void {
    const file = this.#stateFile;
    if (!file || this.#saveQueued) return;
    this.#saveQueued = true;
    this.#saving = this.#saving.then(async () => {
      this.#saveQueued = false;
      const tmp = `${file}.tmp`;
      await writeFile(tmp, JSON.stringify({ version: this.#version, vms: [...this.#vms.values()] }));
      await rename(tmp, file);
    });
  }

  /** Resolves once pending state writes are on disk. */
  flush(): Promise<void> {
    return this.#saving;
  }
}
