import { MachineResources } from "../../src/api/resources.ts";
import {
  defaultMachineControllerConfig,
  type MachineControllerConfig,
} from "../../src/controllers/machine/config.ts";
import { MachineController } from "../../src/controllers/machine/controller.ts";
import { MachineDeploymentController } from "../../src/controllers/machinedeployment/controller.ts";
import { MachineSetController } from "../../src/controllers/machineset/controller.ts";
import { DEFAULT_SAFETY_CONFIG, type SafetyConfig } from "../../src/controllers/safety/config.ts";
import { ApiServerCheck } from "../../src/controllers/safety/apiservers.ts";
import { OvershootGuard } from "../../src/controllers/safety/overshoot.ts";
import { FakeDriver } from "../../src/driver/fake.ts";
import { DriverRegistry } from "../../src/driver/registry.ts";
import { FakeClock, settle } from "../../src/runtime/clock.ts";
import type { KubeObject } from "../../src/runtime/client/client.ts";
import { Resources } from "../../src/runtime/client/resources.ts";
import { Manager } from "../../src/runtime/manager/manager.ts";
import {
  type ClassObject,
  type DeploymentObject,
  machineClass,
  type MachineObject,
  type MachineSetObject,
  NAMESPACE,
  type NodeObject,
  PROVIDER,
  secret,
  type SecretObject,
} from "../builders/index.ts";
import { MemoryClient } from "./memory-client.ts";

export interface WorldOptions {
  /** Run against a target cluster (Nodes, bootstrap tokens). Default true. */
  readonly target?: boolean;
  readonly config?: Partial<MachineControllerConfig>;
  /** Which controllers run. Default all three. */
  readonly controllers?: readonly (
    "machine" | "machineset" | "machinedeployment" | "overshoot" | "apiservers"
  )[];
  /** Settings of the safety controller (the overshooting guard runs when "overshoot" is asked for). */
  readonly safety?: Partial<SafetyConfig>;
}

/**
 * The controllers on a manager over in-memory control and target clusters, a FakeDriver and a
 * FakeClock: a unit test seeds objects, starts, and then asserts on what the controllers wrote
 * once everything has settled (`idle()`), or after time has passed (`tick()`). The default class
 * and its Secret are seeded.
 */
export class World {
  readonly clock = new FakeClock();
  readonly control = new MemoryClient({ name: "control", clock: this.clock });
  readonly target: MemoryClient | undefined;
  readonly driver = new FakeDriver();
  readonly config: MachineControllerConfig;
  readonly manager: Manager;

  constructor(opts: WorldOptions = {}) {
    this.target = opts.target === false ? undefined : new MemoryClient({ name: "target", clock: this.clock });
    this.config = { ...defaultMachineControllerConfig(NAMESPACE), concurrentSyncs: 2, ...opts.config };
    this.manager = new Manager({
      kubeConfig: this.control.kubeConfig,
      kubeClient: this.control,
      clock: this.clock,
    });
    const registry = new DriverRegistry({ pluginDirs: [] });
    registry.register(PROVIDER, this.driver);
    const run = new Set(opts.controllers ?? ["machine", "machineset", "machinedeployment"]);
    const common = { manager: this.manager, namespace: NAMESPACE, clock: this.clock, workers: 2 };
    if (run.has("machine")) {
      const machines = new MachineController({
        manager: this.manager,
        target: this.target,
        registry,
        config: this.config,
        clock: this.clock,
      });
      if (run.has("apiservers")) {
        const config = { ...DEFAULT_SAFETY_CONFIG, ...opts.safety };
        new ApiServerCheck({
          manager: this.manager,
          control: this.control,
          target: this.target,
          namespace: NAMESPACE,
          config,
          onFreeze: () => machines.freeze(),
          onThaw: () => machines.thaw(),
          clock: this.clock,
        });
      }
    }
    if (run.has("machineset")) new MachineSetController(common);
    if (run.has("machinedeployment")) new MachineDeploymentController({ ...common, target: this.target });
    if (run.has("overshoot")) {
      const config = { ...DEFAULT_SAFETY_CONFIG, ...opts.safety };
      new OvershootGuard({ manager: this.manager, namespace: NAMESPACE, config, clock: this.clock });
    }
    this.control.seed(Resources.secrets, secret());
    this.control.seed(MachineResources.machineClasses, machineClass());
  }

  async start(): Promise<void> {
    await this.manager.start();
    await this.manager.waitForCacheSync();
    await this.idle();
  }

  stop(): Promise<void> {
    return this.manager.stop();
  }

  /**
   * Waits until nothing moves any more: no write for several turns of the event loop. Every
   * in-memory call answers on a microtask, so this needs no wall-clock time.
   */
  async idle(): Promise<void> {
    let quiet = 0;
    let last = -1;
    for (let i = 0; quiet < 5; i++) {
      if (i > 10_000) throw new Error("the controllers never came to rest (a hot loop?)");
      await settle();
      const now = this.control.writes.length + (this.target?.writes.length ?? 0) + this.driver.calls.length;
      quiet = now === last ? quiet + 1 : 0;
      last = now;
    }
  }

  /** Lets ms pass on the FakeClock (requeues, resyncs, timeouts), then waits for rest. */
  async tick(ms: number): Promise<void> {
    await this.clock.tick(ms);
    await this.idle();
  }

  machine(name: string): MachineObject | undefined {
    return this.control.peek(MachineResources.machines, NAMESPACE, name) as MachineObject | undefined;
  }

  machines(): MachineObject[] {
    return this.control.all<MachineObject>(MachineResources.machines, NAMESPACE);
  }

  sets(): MachineSetObject[] {
    return this.control.all<MachineSetObject>(MachineResources.machineSets, NAMESPACE);
  }

  deployment(name: string): DeploymentObject | undefined {
    return this.control.peek(MachineResources.machineDeployments, NAMESPACE, name);
  }

  node(name: string): NodeObject | undefined {
    return this.target?.peek(Resources.nodes, undefined, name);
  }

  /** Writes to one machine's object (not its status), in order. */
  machineWrites(name: string): string[] {
    return this.control.writes
      .filter((w) => w.resource === "machines" && w.name === name)
      .map((w) => `${w.verb}${w.subresource ? `/${w.subresource}` : ""}`);
  }

  seed = {
    machines: (...objs: MachineObject[]): void => this.control.seed(MachineResources.machines, ...objs),
    sets: (...objs: MachineSetObject[]): void => this.control.seed(MachineResources.machineSets, ...objs),
    deployments: (...objs: DeploymentObject[]): void =>
      this.control.seed(MachineResources.machineDeployments, ...objs),
    classes: (...objs: ClassObject[]): void => this.control.seed(MachineResources.machineClasses, ...objs),
    secrets: (...objs: SecretObject[]): void => this.control.seed(Resources.secrets, ...objs),
    nodes: (...objs: NodeObject[]): void => this.target?.seed(Resources.nodes, ...objs),
    target: (ref: Parameters<MemoryClient["seed"]>[0], ...objs: KubeObject[]): void =>
      this.target?.seed(ref, ...objs),
  };
}
