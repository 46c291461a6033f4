import type { ErrorCode } from "./codes.ts";
import type {
  CallOptions,
  CreateMachineRequest,
  CreateMachineResponse,
  DeleteMachineRequest,
  DeleteMachineResponse,
  Driver,
  GetMachineStatusRequest,
  GetMachineStatusResponse,
  GetVolumeIDsRequest,
  GetVolumeIDsResponse,
  InitializeMachineRequest,
  InitializeMachineResponse,
  ListMachinesRequest,
  ListMachinesResponse,
} from "./driver.ts";
import { MachineError } from "./errors.ts";

export interface FakeVm {
  readonly id: string;
  readonly machineName: string;
  readonly providerID: string;
  readonly nodeName: string;
  initialized: boolean;
}

export interface FakeCall {
  readonly method: keyof Driver;
  readonly machineName: string | undefined;
  readonly providerID: string | undefined;
}

interface Fault {
  readonly code: ErrorCode | "hang";
  readonly message: string;
  times: number;
}

/** The CSI driver name whose volumes the fake reports as its own. */
export const FAKE_CSI_DRIVER = "disk.csi.fake.sprout";

/**
 * An in-memory driver for tests: VMs live in a map, every call is recorded, and each method can be
 * told to fail with a code (or to hang until its signal aborts) a number of times. It keeps the
 * contract: idempotent create, NotFound after delete, OutOfRange for twins, Unimplemented init
 * unless `initialize` is set.
 */
export class FakeDriver implements Driver {
  readonly vms = new Map<string, FakeVm>();
  readonly calls: FakeCall[] = [];
  readonly #faults = new Map<keyof Driver, Fault>();
  readonly #holds = new Map<keyof Driver, Promise<void>>();
  readonly #initialize: boolean;
  /** Node name the next VM made by `createMachine` reports (a recycled name), instead of the machine's. */
  nextNodeName: string | undefined;

  constructor(opts: { initialize?: boolean } = {}) {
    this.#initialize = opts.initialize ?? false;
  }

  /** The next `times` calls of `method` fail with `code` ("hang": never answer until aborted). */
  fail(
    method: keyof Driver,
    code: ErrorCode | "hang",
    opts: { times?: number; message?: string } = {},
  ): void {
    this.#faults.set(method, {
      code,
      message: opts.message ?? `injected ${code}`,
      times: opts.times ?? Number.POSITIVE_INFINITY,
    });
  }

  /**
   * The next call of `method` waits, once recorded, until the returned function is called, and then
   * goes on as usual (a cloud call in flight, for what runs beside it).
   */
  hold(method: keyof Driver): () => void {
    let release = (): void => undefined;
    this.#holds.set(
      method,
      new Promise<void>((resolve) => {
        release = resolve;
      }),
    );
    return () => release();
  }

  /** Drops the faults still set for `method`, or for every method. */
  clearFaults(method?: keyof Driver): void {
    if (method) this.#faults.delete(method);
    else this.#faults.clear();
  }

  /** The calls of `method` (for one machine, when named). */
  callsOf(method: keyof Driver, machineName?: string): FakeCall[] {
    return this.calls.filter(
      (c) => c.method === method && (machineName === undefined || c.machineName === machineName),
    );
  }

  /**
   * Puts a VM for `machineName` behind the driver's back (a leftover or a twin). Its id is the
   * machine name (`fake:///<name>`), with a suffix when that is taken.
   */
  addVm(machineName: string, opts: { nodeName?: string } = {}): FakeVm {
    let id = machineName;
    for (let n = 2; id === "" || this.vms.has(id); n++) id = `${machineName}-${n}`;
    const vm: FakeVm = {
      id,
      machineName,
      providerID: `fake:///${id}`,
      nodeName: opts.nodeName ?? machineName,
      initialized: !this.#initialize,
    };
    this.vms.set(id, vm);
    return vm;
  }

  async createMachine(req: CreateMachineRequest): Promise<CreateMachineResponse> {
    await this.#enter("createMachine", req);
    const name = req.machine.metadata?.name ?? "";
    let vm = this.#named(name)[0];
    if (!vm) {
      vm = this.addVm(name, this.nextNodeName === undefined ? {} : { nodeName: this.nextNodeName });
      this.nextNodeName = undefined;
    }
    return { providerID: vm.providerID, nodeName: vm.nodeName, lastKnownState: vm.id };
  }

  async initializeMachine(req: InitializeMachineRequest): Promise<InitializeMachineResponse> {
    await this.#enter("initializeMachine", req);
    if (!this.#initialize) throw new MachineError("Unimplemented", "the fake needs no initialization");
    const vm = this.#one(req.machine);
    vm.initialized = true;
    return { providerID: vm.providerID, nodeName: vm.nodeName, lastKnownState: `${vm.id}/initialized` };
  }

  async deleteMachine(req: DeleteMachineRequest): Promise<DeleteMachineResponse> {
    await this.#enter("deleteMachine", req);
    for (const vm of this.#of(req.machine)) this.vms.delete(vm.id);
    return {};
  }

  async getMachineStatus(req: GetMachineStatusRequest): Promise<GetMachineStatusResponse> {
    await this.#enter("getMachineStatus", req);
    const vm = this.#one(req.machine);
    if (!vm.initialized) throw new MachineError("Uninitialized", `VM ${vm.id} is not initialized`);
    return { providerID: vm.providerID, nodeName: vm.nodeName };
  }

  async listMachines(req: ListMachinesRequest): Promise<ListMachinesResponse> {
    await this.#enter("listMachines", req);
    return { machineList: new Map([...this.vms.values()].map((vm) => [vm.providerID, vm.machineName])) };
  }

  async getVolumeIDs(req: GetVolumeIDsRequest): Promise<GetVolumeIDsResponse> {
    await this.#enter("getVolumeIDs", req);
    const ids = req.pvSpecs.flatMap((spec) => {
      const csi = spec.csi as { driver?: string; volumeHandle?: string } | undefined;
      return csi?.driver === FAKE_CSI_DRIVER && csi.volumeHandle ? [csi.volumeHandle] : [];
    });
    return { volumeIDs: ids };
  }

  async #enter(
    method: keyof Driver,
    req: CallOptions & { machine?: { metadata?: { name?: string }; spec: { providerID?: string } } },
  ): Promise<void> {
    this.calls.push({
      method,
      machineName: req.machine?.metadata?.name,
      providerID: req.machine?.spec.providerID,
    });
    const held = this.#holds.get(method);
    if (held) {
      this.#holds.delete(method);
      await held;
    }
    const fault = this.#faults.get(method);
    if (!fault || fault.times <= 0) return;
    fault.times--;
    if (fault.code !== "hang") throw new MachineError(fault.code, fault.message);
    await new Promise<never>((_, reject) => {
      const abort = (): void => reject(new MachineError("Canceled", `${method} aborted while hanging`));
      if (req.signal?.aborted) abort();
      req.signal?.addEventListener("abort", abort, { once: true });
    });
  }

  #named(name: string): FakeVm[] {
    return [...this.vms.values()].filter((vm) => vm.machineName === name);
  }

  #of(machine: { metadata?: { name?: string }; spec: { providerID?: string } }): FakeVm[] {
    const byId = [...this.vms.values()].filter((vm) => vm.providerID === machine.spec.providerID);
    return byId.length > 0 ? byId : this.#named(machine.metadata?.name ?? "");
  }

  #one(machine: { metadata?: { name?: string }; spec: { providerID?: string } }): FakeVm {
    const [vm, ...more] = this.#of(machine);
    const name = machine.metadata?.name ?? "";
    if (!vm) throw new MachineError("NotFound", `no VM for machine ${name}`);
    if (more.length > 0)
      throw new MachineError("OutOfRange", `${more.length + 1} VMs carry machine name ${name}`);
    return vm;
  }
}
