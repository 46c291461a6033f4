import { randomUUID } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";
import type { Machine, MachineClass } from "../../src/api/index.ts";
import type { ErrorCode } from "../../src/driver/codes.ts";
import type { Driver, PersistentVolumeSpec, SecretData } from "../../src/driver/driver.ts";
import { MachineError } from "../../src/driver/errors.ts";
import { uniqueName } from "../env/index.ts";

/**
 * The driver conformance suite: what every plugin must do for the machine controller, whatever the
 * cloud. A plugin runs it by describing its backend as a ConformanceTarget; the checks go through
 * the driver and verify against the backend itself (never through the driver under test).
 */
export interface ConformanceTarget {
  /** Shown in test names, e.g. "aws on moto". */
  readonly name: string;
  readonly driver: Driver;
  /** A valid MachineClass whose VMs belong to `cluster`. */
  machineClass(cluster: string, providerSpec?: Record<string, unknown>): MachineClass;
  /** Credentials and userData for the class. */
  readonly secret: SecretData;
  /** IDs of the live VMs that carry this machine name in `cluster`, asked of the backend. */
  vmsNamed(cluster: string, name: string): Promise<string[]>;
  /** Makes a VM carrying the machine name behind the driver's back (a leftover or a rival). */
  strayVm(cluster: string, name: string): Promise<void>;
  /**
   * The cloud keeps one VM per name (Azure, in one resource group): a stray VM of a machine's name
   * is that machine's VM, and several VMs for one machine cannot happen.
   */
  readonly oneVmPerName?: boolean;
  /** The next create makes its VM but the answer never reaches the driver. */
  loseNextCreateAnswer(): Promise<void>;
  /** Removes every injected fault. */
  clearFaults(): Promise<void>;
  /** PV specs with the volume IDs the driver must report for them (others must be left out). */
  readonly volumes: {
    readonly pvSpecs: readonly PersistentVolumeSpec[];
    readonly expected: readonly string[];
  };
  /** How to make the driver fail with each code it can return. */
  readonly errorCases: readonly ErrorCase[];
  /** The page size the driver under test lists with (set small, so paging is exercised). */
  readonly listPageSize: number;
  /** List page requests the backend has answered so far. */
  listPages(): Promise<number>;
  /** What a VM is made with as resources of their own: NICs, disks, ports. */
  readonly dependents: DependentsTarget;
}

/**
 * The backend's view of a VM's dependents. MCM's providers leak them (orphan NICs after failed
 * creates, NICs and disks left when the VM's status said NotFound); the suite checks that a
 * plugin does not.
 */
export interface DependentsTarget {
  /** providerSpec fields under which dependents outlive their VM in this backend, if any are needed. */
  readonly providerSpec?: Record<string, unknown>;
  /** IDs of the dependents of this machine in `cluster` that exist, attached or not, asked of the backend. */
  of(cluster: string, name: string): Promise<string[]>;
  /** The next create fails after the backend made the VM's dependents, and leaves no live VM. */
  failNextCreateHalfway(): Promise<void>;
  /** Removes the machine's VM behind the driver's back and leaves its dependents. */
  removeVmOnly(cluster: string, name: string): Promise<void>;
}

export interface ErrorCase {
  readonly what: string;
  readonly code: ErrorCode;
  /** Arranges the fault (if any) and makes the failing call. */
  call(cluster: string): Promise<unknown>;
  /** The message must match (e.g. name the providerSpec field). */
  readonly message?: RegExp;
}

/** Codes every target must show a way to produce, besides NotFound and OutOfRange tested here. */
export const REQUIRED_CODES: readonly ErrorCode[] = [
  "InvalidArgument",
  "ResourceExhausted",
  "Unavailable",
  "Internal",
];
const AUTH_CODES: readonly ErrorCode[] = ["Unauthenticated", "PermissionDenied"];

export async function codeOf(p: Promise<unknown>): Promise<ErrorCode | "OK"> {
  try {
    await p;
    return "OK";
  } catch (err) {
    return MachineError.from(err).code;
  }
}

export async function failureOf(p: Promise<unknown>): Promise<MachineError> {
  try {
    await p;
  } catch (err) {
    return MachineError.from(err);
  }
  throw new Error("expected the call to fail, and it succeeded");
}

export function testMachine(name: string, providerID?: string): Machine {
  return {
    metadata: { name, namespace: "shoot--conformance--test", uid: randomUUID() },
    spec: { class: { kind: "MachineClass", name: "conformance" }, ...(providerID ? { providerID } : {}) },
  };
}

/** Registers the suite for one target (resolved lazily, after the file's beforeAll). */
export function driverConformance(target: () => ConformanceTarget): void {
  const t = (): ConformanceTarget => target();
  const cluster = uniqueName("conformance");
  const req = (machine: Machine, c = cluster) => ({
    machine,
    machineClass: t().machineClass(c),
    secret: t().secret,
  });
  const withDependents = (machine: Machine) => ({
    machine,
    machineClass: t().machineClass(cluster, t().dependents.providerSpec),
    secret: t().secret,
  });

  describe("driver conformance", () => {
    afterEach(async () => {
      await t().clearFaults();
    });

    it("creates idempotently and finds the VM by name and by providerID", async () => {
      const machine = testMachine(uniqueName("idem"));
      const first = await t().driver.createMachine(req(machine));
      const again = await t().driver.createMachine(req(machine));
      expect(again.providerID).toBe(first.providerID);
      expect(again.nodeName).toBe(first.nodeName);
      expect(first.nodeName).not.toBe("");
      expect(await t().vmsNamed(cluster, machine.metadata?.name ?? "")).toHaveLength(1);
      const byName = await t().driver.getMachineStatus(req(machine));
      expect(byName).toMatchObject({ providerID: first.providerID, nodeName: first.nodeName });
      const byId = testMachine(machine.metadata?.name ?? "", first.providerID);
      expect(await t().driver.getMachineStatus(req(byId))).toMatchObject({ providerID: first.providerID });
    });

    it("adopts the VM of a create whose answer was lost, and makes no second one", async () => {
      const machine = testMachine(uniqueName("lost"));
      const name = machine.metadata?.name ?? "";
      await t().loseNextCreateAnswer();
      const cut = await failureOf(t().driver.createMachine(req(machine)));
      expect(["Unavailable", "Unknown", "DeadlineExceeded", "Aborted", "Internal"]).toContain(cut.code);
      expect(await t().vmsNamed(cluster, name)).toHaveLength(1);
      await t().clearFaults();
      const adopted = await t().driver.createMachine(req(machine));
      const ids = await t().vmsNamed(cluster, name);
      expect(ids).toHaveLength(1);
      expect(adopted.providerID.endsWith(`/${ids[0] ?? "?"}`)).toBe(true);
    });

    it("answers NotFound after delete, by name and by providerID, and deletes again without error", async () => {
      const machine = testMachine(uniqueName("gone"));
      const vm = await t().driver.createMachine(req(machine));
      const byId = testMachine(machine.metadata?.name ?? "", vm.providerID);
      await t().driver.deleteMachine(req(byId));
      expect(await t().vmsNamed(cluster, machine.metadata?.name ?? "")).toEqual([]);
      expect(await codeOf(t().driver.getMachineStatus(req(machine)))).toBe("NotFound");
      expect(await codeOf(t().driver.getMachineStatus(req(byId)))).toBe("NotFound");
      expect(await codeOf(t().driver.deleteMachine(req(byId)))).toBe("OK");
      expect(await codeOf(t().driver.deleteMachine(req(machine)))).toBe("OK");
    });

    it("lists every VM of the class's cluster, VMs without a Machine included, and no other", async () => {
      const own = uniqueName("list");
      const other = uniqueName("other");
      const machines = [1, 2, 3].map((i) => testMachine(`${own}-${i}`));
      const created = await Promise.all(machines.map((m) => t().driver.createMachine(req(m, own))));
      await t().strayVm(own, `${own}-orphan`);
      await t().driver.createMachine(req(testMachine(`${other}-1`), other));
      const listed = (
        await t().driver.listMachines({ machineClass: t().machineClass(own), secret: t().secret })
      ).machineList;
      expect([...listed.values()].sort()).toEqual(
        [...machines.map((m) => m.metadata?.name), `${own}-orphan`].sort(),
      );
      created.forEach((vm, i) => expect(listed.get(vm.providerID)).toBe(machines[i]?.metadata?.name));
      await t().driver.deleteMachine(req(testMachine(`${own}-2`, created[1]?.providerID), own));
      const after = (
        await t().driver.listMachines({ machineClass: t().machineClass(own), secret: t().secret })
      ).machineList;
      expect(after.size).toBe(3);
      expect(after.has(created[1]?.providerID ?? "")).toBe(false);
    });

    it("lists a cluster whose VMs fill several pages, following every page", async () => {
      const paged = uniqueName("paged");
      const count = t().listPageSize * 2 + 1;
      const names = Array.from({ length: count }, (_, i) => `${paged}-${i}`);
      for (const name of names) await t().strayVm(paged, name);
      const before = await t().listPages();
      const listed = (
        await t().driver.listMachines({ machineClass: t().machineClass(paged), secret: t().secret })
      ).machineList;
      expect([...listed.values()].sort()).toEqual([...names].sort());
      expect((await t().listPages()) - before).toBeGreaterThanOrEqual(3);
    });

    it("leaves no NIC or disk behind when a create fails half-way", async () => {
      const machine = testMachine(uniqueName("half"));
      const name = machine.metadata?.name ?? "";
      const r = withDependents(machine);
      await t().dependents.failNextCreateHalfway();
      expect(await codeOf(t().driver.createMachine(r))).not.toBe("OK");
      expect(await t().vmsNamed(cluster, name)).toEqual([]);
      expect(await t().dependents.of(cluster, name)).toEqual([]);
      await t().clearFaults();
      await t().driver.createMachine(r);
      expect(await t().dependents.of(cluster, name)).not.toEqual([]);
      await t().driver.deleteMachine(r);
      expect(await t().dependents.of(cluster, name)).toEqual([]);
    });

    it("deletes the NICs and disks of a machine whose VM is already gone", async () => {
      const name = uniqueName("orphan");
      const vm = await t().driver.createMachine(withDependents(testMachine(name)));
      const made = (await t().dependents.of(cluster, name)).sort();
      expect(made).not.toEqual([]);
      await t().dependents.removeVmOnly(cluster, name);
      const known = withDependents(testMachine(name, vm.providerID));
      expect(await codeOf(t().driver.getMachineStatus(known))).toBe("NotFound");
      expect((await t().dependents.of(cluster, name)).sort()).toEqual(made);
      await t().driver.deleteMachine(known);
      expect(await t().dependents.of(cluster, name)).toEqual([]);
      expect(await codeOf(t().driver.deleteMachine(known))).toBe("OK");
    });

    it("never makes two VMs for 20 parallel creates of one machine", async () => {
      const machine = testMachine(uniqueName("par"));
      const results = await Promise.all(
        Array.from({ length: 20 }, () => t().driver.createMachine(req(machine))),
      );
      expect(new Set(results.map((r) => r.providerID)).size).toBe(1);
      expect(await t().vmsNamed(cluster, machine.metadata?.name ?? "")).toHaveLength(1);
    });

    it("answers OutOfRange when several VMs carry one machine name, and deletes them all", async () => {
      const machine = testMachine(uniqueName("twin"));
      const name = machine.metadata?.name ?? "";
      await t().driver.createMachine(req(machine));
      await t().strayVm(cluster, name);
      if (t().oneVmPerName) {
        expect(await t().vmsNamed(cluster, name)).toHaveLength(1);
        expect(await codeOf(t().driver.getMachineStatus(req(machine)))).toBe("OK");
        await t().driver.deleteMachine(req(machine));
        expect(await t().vmsNamed(cluster, name)).toEqual([]);
        return;
      }
      expect(await t().vmsNamed(cluster, name)).toHaveLength(2);
      const err = await failureOf(t().driver.getMachineStatus(req(machine)));
      expect(err.code).toBe("OutOfRange");
      await t().driver.deleteMachine(req(machine));
      expect(await t().vmsNamed(cluster, name)).toEqual([]);
    });

    it("initializes idempotently, or says Unimplemented", async () => {
      const machine = testMachine(uniqueName("init"));
      const vm = await t().driver.createMachine(req(machine));
      const withId = testMachine(machine.metadata?.name ?? "", vm.providerID);
      const outcomes = await Promise.all([1, 2].map(() => codeOf(t().driver.initializeMachine(req(withId)))));
      expect(outcomes[0]).toBe(outcomes[1]);
      expect(["OK", "Unimplemented"]).toContain(outcomes[0]);
    });

    it("reports the volume IDs of its own volumes only", async () => {
      const { pvSpecs, expected } = t().volumes;
      expect((await t().driver.getVolumeIDs({ pvSpecs })).volumeIDs).toEqual(expected);
    });

    it("shows a way to every error code the controller handles", () => {
      const codes = new Set(t().errorCases.map((c) => c.code));
      for (const code of REQUIRED_CODES) expect(codes, `no error case for ${code}`).toContain(code);
      expect(
        AUTH_CODES.some((c) => codes.has(c)),
        "no error case for bad credentials",
      ).toBe(true);
    });

    it("fails with the right code for each error case, without secrets in the message", async () => {
      const secrets = Object.values(t().secret)
        .map((v) => v.toString())
        .filter((v) => v.length >= 8);
      for (const c of t().errorCases) {
        try {
          const err = await failureOf(c.call(cluster));
          expect(err.code, `${c.what}: ${err.message}`).toBe(c.code);
          if (c.message) expect(err.message, c.what).toMatch(c.message);
          for (const s of secrets) expect(err.message, c.what).not.toContain(s);
        } finally {
          await t().clearFaults();
        }
      }
    });
  });
}
