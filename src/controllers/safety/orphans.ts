import type { ClassObject, MachineObject, SecretObject } from "../objects.ts";
import { phaseOf } from "../../api/machine-state.ts";
import { SafetyReasons } from "../../api/constants.ts";
import { MachineResources } from "../../api/resources.ts";
import type { Machine } from "../../api/v1alpha1/machine.ts";
import { classSecretData } from "../../driver/class-secret.ts";
import type { Driver, SecretData } from "../../driver/driver.ts";
import { MachineError } from "../../driver/errors.ts";
import type { DriverRegistry } from "../../driver/registry.ts";
import type { Informer } from "../../runtime/cache/informer.ts";
import { objectKey } from "../../runtime/cache/store.ts";
import { type Clock, realClock } from "../../runtime/clock.ts";
import { Resources } from "../../runtime/client/resources.ts";
import { Controller, type ReconcileContext, type Result } from "../../runtime/controller/controller.ts";
import type { Logger } from "../../runtime/log.ts";
import type { Manager } from "../../runtime/manager/manager.ts";
import type { SafetyConfig } from "./config.ts";
import { SafetyMetrics } from "./metrics.ts";

export interface OrphanCollectorOptions {
  readonly manager: Manager;
  readonly namespace: string;
  readonly registry: DriverRegistry;
  readonly config: SafetyConfig;
  /** Whether the machine controller works on this machine (namespace/name) right now: its lock. */
  readonly busy: (key: string) => boolean;
  readonly clock?: Clock;
}

/** What one class's scan works with. */
interface Scan {
  readonly machineClass: ClassObject;
  readonly provider: string;
  readonly driver: Driver;
  readonly secret: SecretData;
  readonly signal: AbortSignal;
  readonly log: Logger;
}

/** A create may still be running on a machine in these phases. */
const IN_FLIGHT_PHASES = new Set(["", "CrashLoopBackOff"]);
/** Phases whose machine holds a VM the provider should list. */
const VM_PHASES = new Set(["Pending", "Available", "Running", "Unknown"]);

const describe = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/**
 * MCM's orphan VM safety (--machine-safety-orphan-vms-period): every period, each MachineClass's
 * VMs are listed through the driver's listMachines. A VM whose name has no Machine (asked of the
 * apiserver, not the cache) is deleted; one whose Machine is still being made (no phase yet,
 * CrashLoopBackOff, created within the grace window, or in a reconcile right now) is left alone;
 * a second VM beside a live Machine's own is reported, not deleted (a delete by that name would take
 * the Machine's VM too; the Machine's deletion removes both). A Machine whose VM the provider no
 * longer has is reported; its Node goes and the health timeout replaces it.
 */
export class OrphanCollector {
  readonly #opts: OrphanCollectorOptions;
  readonly #manager: Manager;
  readonly #classes: Informer<ClassObject>;
  readonly #secrets: Informer<SecretObject>;
  readonly #machines: Informer<MachineObject>;
  readonly #metrics: SafetyMetrics;
  readonly #clock: Clock;

  constructor(opts: OrphanCollectorOptions) {
    this.#opts = opts;
    const { manager, namespace } = opts;
    this.#manager = manager;
    this.#clock = opts.clock ?? realClock;
    this.#metrics = new SafetyMetrics(manager.metrics.registry);
    this.#classes = manager.informer<ClassObject>(MachineResources.machineClasses, { namespace });
    this.#secrets = manager.informer<SecretObject>(Resources.secrets, { namespace });
    this.#machines = manager.informer<MachineObject>(MachineResources.machines, { namespace });
    const controller = new Controller({
      name: "machine-safety-orphan-vms",
      clock: this.#clock,
      logger: manager.logger,
      metrics: manager.metrics,
      reconcile: (ctx) => this.#reconcile(ctx),
    });
    controller.watch(this.#classes, (c) => [objectKey(c)]);
    manager.addController(controller);
  }

  async #reconcile(ctx: ReconcileContext): Promise<Result> {
    const machineClass = this.#classes.store.get(ctx.key);
    if (!machineClass || machineClass.metadata?.deletionTimestamp) return undefined;
    const next = { requeueAfter: this.#opts.config.orphanPeriodMs };
    const provider = (machineClass.provider ?? "").toLowerCase();
    let scan: Scan;
    let listed: ReadonlyMap<string, string>;
    try {
      const ns = machineClass.metadata?.namespace ?? "";
      const secret = classSecretData(machineClass, ns, (key) => this.#secrets.store.get(key));
      const driver = await this.#opts.registry.driverFor(machineClass.provider);
      scan = { machineClass, provider, driver, secret, signal: ctx.signal, log: ctx.log };
      listed = (await driver.listMachines({ machineClass, secret, signal: ctx.signal })).machineList;
    } catch (err) {
      // A class that cannot be listed (Secret missing, provider unreachable) is looked at next period.
      this.#metrics.orphanScans.inc({ provider, result: "error" });
      ctx.log.warn({ err: describe(err) }, "orphan VM scan: listing the class's VMs failed");
      return next;
    }
    this.#metrics.orphanScans.inc({ provider, result: "success" });
    for (const [providerID, name] of listed) {
      if (ctx.signal.aborted) return undefined;
      await this.#check(scan, providerID, name);
    }
    await this.#reportVanished(scan, new Set(listed.keys()));
    return next;
  }

  /** One listed VM: kept, reported as a duplicate, or deleted as an orphan. */
  async #check(scan: Scan, providerID: string, name: string): Promise<void> {
    const ns = scan.machineClass.metadata?.namespace ?? "";
    const key = `${ns}/${name}`;
    if (this.#machines.store.get(key)?.spec.providerID === providerID) return;
    if (this.#opts.busy(key)) return;
    // The cache may not hold a machine created a moment ago: the apiserver decides.
    const live = await this.#manager.client.find<MachineObject>(MachineResources.machines, ns, name);
    if (live) {
      if (live.spec.providerID === providerID || this.#inFlight(live)) return;
      this.#metrics.orphanVms.inc({ provider: scan.provider, result: "duplicate" });
      const note = `VM ${providerID} carries this machine's name besides its own VM ${live.spec.providerID ?? ""}; it goes when the machine is deleted`;
      await this.#manager.events.record(live, "Warning", SafetyReasons.duplicateVm, "Safety", note);
      return;
    }
    await this.#collect(scan, providerID, name);
  }

  /** No Machine for this VM: a create still running or a live machine's duplicate are not orphans. */
  #inFlight(m: Machine): boolean {
    if (m.metadata?.deletionTimestamp) return true;
    if (IN_FLIGHT_PHASES.has(phaseOf(m)) || !m.spec.providerID) return true;
    const created = Date.parse(m.metadata?.creationTimestamp ?? "");
    return Number.isNaN(created) || this.#clock.now() - created < this.#opts.config.orphanGraceMs;
  }

  async #collect(scan: Scan, providerID: string, name: string): Promise<void> {
    const { machineClass, provider } = scan;
    // MCM's dummy machine: the VM's name and providerID, nothing else.
    const machine: Machine = {
      metadata: { name, namespace: machineClass.metadata?.namespace ?? "" },
      spec: { class: { kind: "MachineClass", name: machineClass.metadata?.name ?? "" }, providerID },
    };
    try {
      await scan.driver.deleteMachine({ machine, machineClass, secret: scan.secret, signal: scan.signal });
    } catch (err) {
      this.#metrics.orphanVms.inc({ provider, result: "failed" });
      const note = `deleting orphan VM ${providerID} (machine name ${name}) failed: ${describe(err)}; the next scan tries again`;
      scan.log.warn({ providerID, machine: name }, note);
      await this.#manager.events.record(
        machineClass,
        "Warning",
        SafetyReasons.orphanCollectFailed,
        "Safety",
        note,
      );
      return;
    }
    this.#metrics.orphanVms.inc({ provider, result: "collected" });
    const note = `deleted orphan VM ${providerID} (machine name ${name}): no Machine of that name exists`;
    scan.log.info({ providerID, machine: name }, note);
    await this.#manager.events.record(machineClass, "Normal", SafetyReasons.orphanCollected, "Safety", note);
  }

  /**
   * Machines of the class that hold a VM the listing lacks and the provider confirms gone: a
   * Warning Event each (the health check replaces them once their Node is gone).
   */
  async #reportVanished(scan: Scan, listed: ReadonlySet<string>): Promise<void> {
    const className = scan.machineClass.metadata?.name;
    const ns = scan.machineClass.metadata?.namespace;
    for (const m of this.#machines.store.list()) {
      const id = m.spec.providerID;
      if (m.metadata?.namespace !== ns || m.spec.class.name !== className || !id || listed.has(id)) continue;
      if (!VM_PHASES.has(phaseOf(m)) || this.#inFlight(m) || this.#opts.busy(objectKey(m))) continue;
      if (!(await this.#gone(scan, m))) continue;
      this.#metrics.vanishedVms.inc({ provider: scan.provider });
      const note = `the provider no longer has VM ${id} of this machine`;
      await this.#manager.events.record(m, "Warning", SafetyReasons.vmVanished, "Safety", note);
    }
  }

  async #gone(scan: Scan, machine: Machine): Promise<boolean> {
    try {
      await scan.driver.getMachineStatus({
        machine,
        machineClass: scan.machineClass,
        secret: scan.secret,
        signal: scan.signal,
      });
      return false;
    } catch (err) {
      return MachineError.from(err).code === "NotFound";
    }
  }
}
