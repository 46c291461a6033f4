import { SafetyReasons } from "../../api/constants.ts";
import { MachineResources } from "../../api/resources.ts";
import { type Clock, realClock } from "../../runtime/clock.ts";
import { isNotFound, type KubeClient } from "../../runtime/client/client.ts";
import { Resources } from "../../runtime/client/resources.ts";
import { Controller, type Result } from "../../runtime/controller/controller.ts";
import type { Logger } from "../../runtime/log.ts";
import type { Manager } from "../../runtime/manager/manager.ts";
import type { SafetyConfig } from "./config.ts";
import { SafetyMetrics } from "./metrics.ts";

export interface ApiServerCheckOptions {
  readonly manager: Manager;
  /** The seed's apiserver (Machines). */
  readonly control: KubeClient;
  /** The shoot's apiserver (Nodes); undefined without a target cluster. */
  readonly target: KubeClient | undefined;
  readonly namespace: string;
  readonly config: SafetyConfig;
  /** Called when an apiserver has not answered for the timeout. */
  readonly onFreeze: () => void;
  /** Called once when both apiservers answer again after a freeze (resets the health timeouts). */
  readonly onThaw: () => Promise<void>;
  readonly clock?: Clock;
}

/** The name MCM probes for: an object that does not exist, so only NotFound means "answering". */
const PROBE_NAME = "dummy_name";
const KEY = "apiservers";

/**
 * MCM's apiserver-unreachable freeze (--machine-safety-apiserver-statuscheck-timeout/-period):
 * every period a GET of a Machine and of a Node that do not exist goes to the control and the
 * target apiserver; anything but NotFound counts as unreachable. Unreachable for longer than the
 * timeout (looked at every timeout/5 meanwhile) freezes the machine controller (`onFreeze`): no machine is
 * created, marked Unknown or Failed, or replaced while it cannot see; deletions go on. Once both
 * answer, it thaws and `onThaw` restarts the health timeouts of the machines that went Unknown.
 */
export class ApiServerCheck {
  readonly #opts: ApiServerCheckOptions;
  readonly #clock: Clock;
  readonly #metrics: SafetyMetrics;
  readonly #log: Logger;
  #frozen = false;
  #unreachableSince: number | undefined;

  constructor(opts: ApiServerCheckOptions) {
    this.#opts = opts;
    this.#clock = opts.clock ?? realClock;
    this.#metrics = new SafetyMetrics(opts.manager.metrics.registry);
    this.#metrics.frozen.set(0);
    this.#log = opts.manager.logger.child({ controller: "machine-safety-apiserver" });
    const controller = new Controller({
      name: "machine-safety-apiserver",
      clock: this.#clock,
      logger: opts.manager.logger,
      metrics: opts.manager.metrics,
      reconcile: () => this.#check(),
    });
    controller.enqueueOnStart(KEY);
    opts.manager.addController(controller);
  }

  async #check(): Promise<Result> {
    const { config } = this.#opts;
    const down = await this.#unreachable();
    const now = this.#clock.now();
    if (down.length === 0) {
      this.#unreachableSince = undefined;
      if (this.#frozen) await this.#thaw();
      return { requeueAfter: config.statusCheckPeriodMs };
    }
    this.#unreachableSince ??= now;
    if (!this.#frozen && now - this.#unreachableSince >= config.statusCheckTimeoutMs) {
      this.#frozen = true;
      this.#opts.onFreeze();
      this.#metrics.frozen.set(1);
      this.#log.error(
        { reason: SafetyReasons.apiServerUnreachable, unreachable: down },
        "apiserver unreachable: machine controller frozen (no creates, no health transitions; deletions go on)",
      );
    }
    return { requeueAfter: Math.max(1, Math.floor(config.statusCheckTimeoutMs / 5)) };
  }

  async #thaw(): Promise<void> {
    await this.#opts.onThaw();
    this.#frozen = false;
    this.#metrics.frozen.set(0);
    this.#log.info("apiservers reachable again: machine controller thawed, health timeouts restarted");
  }

  /** The clusters whose apiserver did not answer the probe. */
  async #unreachable(): Promise<string[]> {
    const { control, target, namespace, config } = this.#opts;
    // A black-holed apiserver must not hold the probe longer than one re-probe interval.
    const opts = { timeoutMs: Math.max(1000, Math.floor(config.statusCheckTimeoutMs / 5)) };
    const probes: [string, () => Promise<unknown>][] = [
      ["control", () => control.get(MachineResources.machines, namespace, PROBE_NAME, opts)],
    ];
    if (target) probes.push(["target", () => target.get(Resources.nodes, undefined, PROBE_NAME, opts)]);
    const down: string[] = [];
    for (const [cluster, probe] of probes) {
      const ok = await probe().then(
        () => true,
        (err: unknown) => isNotFound(err),
      );
      this.#metrics.apiServerChecks.inc({ cluster, result: ok ? "ok" : "unreachable" });
      if (!ok) down.push(cluster);
    }
    return down;
  }
}
