import type { Logger } from "pino";
import { type Clock, realClock } from "../clock.ts";
import { isConflict, type KubeClient, isNotFound } from "../client/client.ts";
import { Resources } from "../client/resources.ts";
import type { RuntimeMetrics } from "../metrics/metrics.ts";

export interface LeaderElectionOptions {
  /** Lease name. */
  readonly name: string;
  /** Lease namespace. */
  readonly namespace: string;
  /** This process's identity (hostname + random suffix by default). */
  readonly identity: string;
  /** How long a lease is valid without renewal; others wait this long before taking over. Default 15 s. */
  readonly leaseDurationMs?: number;
  /** How long the leader keeps trying to renew before it gives up leadership. Default 10 s. */
  readonly renewDeadlineMs?: number;
  /** How often to try to acquire or renew. Default 2 s. */
  readonly retryPeriodMs?: number;
}

interface LeaseSpec {
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  acquireTime?: string;
  renewTime?: string;
  leaseTransitions?: number;
}

interface Lease {
  metadata?: { name?: string; namespace?: string; resourceVersion?: string };
  spec?: LeaseSpec;
  [key: string]: unknown;
}

const microTime = (ms: number): string => new Date(ms).toISOString().replace("Z", "000Z");

/**
 * Leader election on a coordination.k8s.io/v1 Lease, as client-go does it: the holder renews every
 * retry period; others consider the lease expired when its record has not changed for a lease
 * duration as measured by their own clock (no clock-skew dependence); optimistic concurrency on the
 * Lease's resourceVersion makes every transition atomic.
 */
export class LeaderElector {
  readonly #client: KubeClient;
  readonly #opts: Required<LeaderElectionOptions>;
  readonly #clock: Clock;
  readonly #log: Logger | undefined;
  readonly #metrics: RuntimeMetrics | undefined;
  #observedRecord = "";
  #observedAt = 0;
  #leading = false;

  constructor(
    client: KubeClient,
    opts: LeaderElectionOptions,
    deps: { clock?: Clock; logger?: Logger; metrics?: RuntimeMetrics } = {},
  ) {
    this.#client = client;
    this.#opts = { leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000, ...opts };
    this.#clock = deps.clock ?? realClock;
    this.#log = deps.logger;
    this.#metrics = deps.metrics;
  }

  get leading(): boolean {
    return this.#leading;
  }

  get identity(): string {
    return this.#opts.identity;
  }

  /**
   * Runs until the signal aborts: waits to acquire the lease, calls onStarted, renews, and calls
   * onStopped when leadership is lost (then tries to acquire again). On abort a held lease is released.
   */
  async run(signal: AbortSignal, callbacks: { onStarted(): void; onStopped(): void }): Promise<void> {
    while (!signal.aborted) {
      if ((await this.#tryAcquireOrRenew()) !== "held") {
        await this.#clock.sleep(this.#opts.retryPeriodMs, signal);
        continue;
      }
      this.#setLeading(true);
      callbacks.onStarted();
      await this.#renewLoop(signal);
      this.#setLeading(false);
      callbacks.onStopped();
    }
    await this.release();
  }

  /** Gives the lease up at once so another instance can take over without waiting. */
  async release(): Promise<void> {
    try {
      const lease = await this.#client.find<Lease>(Resources.leases, this.#opts.namespace, this.#opts.name);
      if (lease?.spec?.holderIdentity !== this.#opts.identity) return;
      const now = this.#clock.now();
      lease.spec = { ...lease.spec, holderIdentity: "", leaseDurationSeconds: 1, renewTime: microTime(now) };
      await this.#client.update(Resources.leases, lease);
      this.#log?.info({ lease: this.#opts.name }, "released leadership");
    } catch (err) {
      this.#log?.warn({ err: String(err) }, "could not release the lease");
    }
  }

  async #renewLoop(signal: AbortSignal): Promise<void> {
    let lastRenew = this.#clock.now();
    while (!signal.aborted) {
      await this.#clock.sleep(this.#opts.retryPeriodMs, signal);
      if (signal.aborted) return;
      const outcome = await this.#tryAcquireOrRenew();
      if (outcome === "held") {
        lastRenew = this.#clock.now();
      } else if (outcome === "taken" || this.#clock.now() - lastRenew >= this.#opts.renewDeadlineMs) {
        this.#log?.warn({ lease: this.#opts.name, outcome }, "lost leadership");
        return;
      }
    }
  }

  /** held: this process holds the lease now; taken: another holder's lease is valid; failed: API error. */
  async #tryAcquireOrRenew(): Promise<"held" | "taken" | "failed"> {
    const { name, namespace, identity } = this.#opts;
    const now = this.#clock.now();
    const desired: LeaseSpec = {
      holderIdentity: identity,
      leaseDurationSeconds: Math.ceil(this.#opts.leaseDurationMs / 1000),
      renewTime: microTime(now),
    };
    try {
      const lease = await this.#client.find<Lease>(Resources.leases, namespace, name);
      if (!lease) {
        await this.#client.create<Lease>(Resources.leases, {
          apiVersion: "coordination.k8s.io/v1",
          kind: "Lease",
          metadata: { name, namespace },
          spec: { ...desired, acquireTime: microTime(now), leaseTransitions: 0 },
        });
        this.#observe(desired, now);
        return "held";
      }
      const spec = lease.spec ?? {};
      this.#observe(spec, now);
      const holder = spec.holderIdentity ?? "";
      const durationMs = (spec.leaseDurationSeconds ?? 0) * 1000;
      if (holder !== "" && holder !== identity && this.#observedAt + durationMs > now) return "taken";
      const takingOver = holder !== identity;
      lease.spec = nextSpec(spec, desired, takingOver, now);
      await this.#client.update(Resources.leases, lease);
      this.#observe(lease.spec, now);
      if (takingOver) this.#log?.info({ lease: name, previous: holder || "(none)" }, "acquired leadership");
      return "held";
    } catch (err) {
      if (!isConflict(err) && !isNotFound(err)) this.#log?.warn({ err: String(err) }, "lease update failed");
      return "failed";
    }
  }

  #observe(spec: LeaseSpec, now: number): void {
    const record = JSON.stringify([spec.holderIdentity, spec.renewTime, spec.leaseDurationSeconds]);
    if (record !== this.#observedRecord) {
      this.#observedRecord = record;
      this.#observedAt = now;
    }
  }

  #setLeading(leading: boolean): void {
    this.#leading = leading;
    this.#metrics?.leader.set({ name: this.#opts.name }, leading ? 1 : 0);
  }
}

function nextSpec(spec: LeaseSpec, desired: LeaseSpec, takingOver: boolean, now: number): LeaseSpec {
  return {
    ...spec,
    ...desired,
    acquireTime: takingOver || !spec.acquireTime ? microTime(now) : spec.acquireTime,
    leaseTransitions: (spec.leaseTransitions ?? 0) + (takingOver ? 1 : 0),
  };
}
