import type { ErrorCode } from "../../src/driver/codes.ts";
import type {
  CreateMachineRequest,
  CreateMachineResponse,
  DeleteMachineRequest,
  DeleteMachineResponse,
  Driver,
  GetMachineStatusRequest,
  GetMachineStatusResponse,
  GetVolumeIDsResponse,
  InitializeMachineResponse,
  ListMachinesResponse,
} from "../../src/driver/driver.ts";
import { MachineError } from "../../src/driver/errors.ts";

type Method = keyof Driver;

/**
 * A driver over VMs in memory, for unit tests of the controllers: every call is recorded, and a
 * test programs failures per method (`fail`). A VM is named after its machine; its providerID is
 * `stub:///<machine>` and its node name the machine's name unless a test says otherwise.
 */
export class StubDriver implements Driver {
  readonly vms = new Map<string, { providerID: string; nodeName: string }>();
  readonly calls: { method: Method; machine: string }[] = [];
  readonly #failures = new Map<Method, MachineError[]>();
  /** Node name the next created VM reports (a recycled name), instead of the machine's name. */
  nextNodeName: string | undefined;
  /** Whether initializeMachine is implemented. */
  initializes = false;

  /** The next `times` calls of method fail with code. */
  fail(method: Method, code: ErrorCode, message = `${method} failed`, times = 1): void {
    const list = this.#failures.get(method) ?? [];
    for (let i = 0; i < times; i++) list.push(new MachineError(code, message));
    this.#failures.set(method, list);
  }

  /** Drops the failures still programmed for method. */
  recover(method: Method): void {
    this.#failures.delete(method);
  }

  /** How often method was called (for one machine, when named). */
  count(method: Method, machine?: string): number {
    return this.calls.filter((c) => c.method === method && (!machine || c.machine === machine)).length;
  }

  createMachine(req: CreateMachineRequest): Promise<CreateMachineResponse> {
    return this.#call("createMachine", req.machine.metadata?.name ?? "", (name) => {
      const vm = { providerID: `stub:///${name}`, nodeName: this.nextNodeName ?? name };
      this.nextNodeName = undefined;
      this.vms.set(name, vm);
      return vm;
    });
  }

  initializeMachine(req: CreateMachineRequest): Promise<InitializeMachineResponse> {
    return this.#call("initializeMachine", req.machine.metadata?.name ?? "", (name) => {
      const vm = this.vms.get(name);
      if (!this.initializes) throw new MachineError("Unimplemented", "nothing to initialise");
      if (!vm) throw new MachineError("NotFound", `no VM for ${name}`);
      return vm;
    });
  }

  deleteMachine(req: DeleteMachineRequest): Promise<DeleteMachineResponse> {
    return this.#call("deleteMachine", req.machine.metadata?.name ?? "", (name) => {
      this.vms.delete(name);
      return {};
    });
  }

  getMachineStatus(req: GetMachineStatusRequest): Promise<GetMachineStatusResponse> {
    return this.#call("getMachineStatus", req.machine.metadata?.name ?? "", (name) => {
      const vm = this.vms.get(name);
      if (!vm) throw new MachineError("NotFound", `no VM for ${name}`);
      return vm;
    });
  }

  listMachines(): Promise<ListMachinesResponse> {
    return this.#call("listMachines", "", () => ({
      machineList: new Map([...this.vms].map(([name, vm]) => [vm.providerID, name])),
    }));
  }

  getVolumeIDs(): Promise<GetVolumeIDsResponse> {
    return this.#call("getVolumeIDs", "", () => ({ volumeIDs: [] }));
  }

  #call<T>(method: Method, machine: string, fn: (machine: string) => T): Promise<T> {
    this.calls.push({ method, machine });
    const failure = this.#failures.get(method)?.shift();
    return failure ? Promise.reject(failure) : Promise.resolve().then(() => fn(machine));
  }
}
