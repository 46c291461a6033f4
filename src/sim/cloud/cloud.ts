import { randomBytes } from "node:crypto";
import { readFile, rename, writeFile } from "node:fs/promises";
import type { CloudError, CreateVmInput, Dependent, Faults, Vm } from "./types.ts";
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

const hasTags = (tags: Readonly<Record<string, string>>, want: Record<string, string>): boolean =>
  Object.entries(want).every(([k, v]) => tags[k] === v);

/**
 * The virtual cloud's state and rules: VMs by id, each made with a NIC and a boot disk of its own
 * (dependents), idempotent create by client token, quota, injected latency, failures and
 * throttling, and a state file rewritten after every change so VMs outlive a restart of the cloud
 * process.
 */
export class VirtualCloud {
  readonly faults: Faults = { ...DEFAULT_FAULTS };
  readonly #vms = new Map<string, Vm>();
  readonly #dependents = new Map<string, Dependent>();
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
    const state = JSON.parse(text) as { version: number; vms: Vm[]; dependents?: Dependent[] };
    for (const d of state.dependents ?? []) this.#dependents.set(d.id, d);
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
    if (this.#chance(this.faults.throttleRate)) {
      throw new CloudFailure(429, "Throttled", "request rate exceeded; retry later");
    }
  }

  #chance(rate: number): boolean {
    return rate > 0 && this.#random() < rate;
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
    if (this.#chance(this.faults.failureRate)) {
      throw new CloudFailure(500, "InternalError", "injected failure while creating the VM");
    }
    const live = [...this.#vms.values()].filter((v) => v.state !== "terminated").length;
    if (this.faults.quota >= 0 && live >= this.faults.quota) {
      throw new CloudFailure(409, "QuotaExceeded", `quota of ${this.faults.quota} VMs reached`);
    }
    // The NIC and the disk come first, as in a real cloud, and are attached in the same turn.
    const dependents = (["nic", "disk"] as const).map((kind) => {
      const d: Dependent = { id: `${kind}-${randomBytes(6).toString("hex")}`, kind, tags: { ...input.tags } };
      this.#dependents.set(d.id, d);
      return d;
    });
    if (this.#chance(this.faults.halfCreateRate)) {
      this.#save();
      throw new CloudFailure(500, "InternalError", "injected failure after the VM's NIC and disk were made");
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
    for (const d of dependents) d.attachedTo = vm.id;
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
        hasTags(vm.tags, filter.tags ?? {}),
    );
  }

  async delete(id: string, sleep: (ms: number) => Promise<void>): Promise<void> {
    const vm = this.get(id);
    if (this.faults.deleteLatencyMs > 0) await sleep(this.faults.deleteLatencyMs);
    vm.state = "terminated";
    vm.terminatedTime = new Date().toISOString();
    const orphan = this.#chance(this.faults.orphanDependentsRate);
    for (const d of this.#dependents.values()) {
      if (d.attachedTo !== id) continue;
      if (orphan) delete d.attachedTo;
      else this.#dependents.delete(d.id);
    }
    this.#changed(vm);
  }

  /** NICs and disks carrying all the given tags. */
  findDependents(tags: Record<string, string>): Dependent[] {
    return [...this.#dependents.values()].filter((d) => hasTags(d.tags, tags));
  }

  /** Deletes a NIC or disk; one attached to a VM is refused (InUse), as a real cloud does. */
  deleteDependent(id: string): void {
    const d = this.#dependents.get(id);
    if (!d) throw new CloudFailure(404, "NotFound", `${id} not found`);
    if (d.attachedTo !== undefined) {
      throw new CloudFailure(409, "InUse", `${id} is attached to VM ${d.attachedTo}`);
    }
    this.#dependents.delete(id);
    this.#save();
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
      const state = {
        version: this.#version,
        vms: [...this.#vms.values()],
        dependents: [...this.#dependents.values()],
      };
      await writeFile(tmp, JSON.stringify(state));
      await rename(tmp, file);
    });
  }

  /** Resolves once pending state writes are on disk. */
  flush(): Promise<void> {
    return this.#saving;
  }
}
