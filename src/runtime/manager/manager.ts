import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import type { KubeConfig } from "@kubernetes/client-node";
import { Informer, type InformerOptions } from "../cache/informer.ts";
import { type Clock, realClock } from "../clock.ts";
import { type ClientOptions, KubeClient, type KubeObject } from "../client/client.ts";
import type { ResourceRef } from "../client/resources.ts";
import type { Controller } from "../controller/controller.ts";
import { EventRecorder, MALFORMED_OBJECT_REASON } from "../events/recorder.ts";
import { type Logger, silentLogger } from "../log.ts";
import { RuntimeMetrics } from "../metrics/metrics.ts";
import { HealthServer } from "./http.ts";
import { LeaderElector, type LeaderElectionOptions } from "./leader.ts";

export interface ManagerOptions {
  readonly kubeConfig: KubeConfig;
  readonly client?: Omit<ClientOptions, "metrics" | "clock">;
  /** A ready client used instead of one made from kubeConfig (unit tests pass an in-memory one). */
  readonly kubeClient?: KubeClient;
  /** Lease-based leader election; controllers run only while leading. Off when unset. */
  readonly leaderElection?: Omit<LeaderElectionOptions, "identity"> & { readonly identity?: string };
  /** Address of the /healthz, /readyz and /metrics server, e.g. {host: "0.0.0.0", port: 10258}; off when unset. */
  readonly http?: { readonly host: string; readonly port: number };
  /** How long SIGTERM waits for controllers to finish before stopping anyway. Default 30 s. */
  readonly shutdownTimeoutMs?: number;
  /** reportingController of Events. Default "sprout". */
  readonly eventSource?: string;
  readonly logger?: Logger;
  readonly metrics?: RuntimeMetrics;
  readonly clock?: Clock;
}

/**
 * Runs informers, controllers and the health/metrics server. Informers run on every instance (a
 * standby keeps warm caches); controllers run only while this instance holds the lease and stop at
 * once when it is lost. stop() shuts down in order: controllers (bounded), the lease (released),
 * informers, the HTTP server.
 */
export class Manager {
  readonly client: KubeClient;
  readonly metrics: RuntimeMetrics;
  readonly logger: Logger;
  readonly events: EventRecorder;
  readonly identity: string;
  readonly #opts: ManagerOptions;
  readonly #clock: Clock;
  readonly #informers = new Map<string, Informer<KubeObject>>();
  readonly #controllers: Controller[] = [];
  readonly #elector: LeaderElector | undefined;
  #http: HealthServer | undefined;
  #httpPort: number | undefined;
  #abort: AbortController | undefined;
  #election: Promise<void> | undefined;
  #leading = false;
  #gaugeTimer: NodeJS.Timeout | undefined;

  constructor(opts: ManagerOptions) {
    this.#opts = opts;
    this.#clock = opts.clock ?? realClock;
    this.metrics = opts.metrics ?? new RuntimeMetrics();
    this.logger = opts.logger ?? silentLogger;
    this.identity = opts.leaderElection?.identity ?? `${hostname()}_${randomBytes(4).toString("hex")}`;
    this.client =
      opts.kubeClient ??
      new KubeClient(opts.kubeConfig, { ...opts.client, metrics: this.metrics, clock: this.#clock });
    this.events = new EventRecorder({
      client: this.client,
      controller: opts.eventSource ?? "sprout",
      instance: this.identity,
      clock: this.#clock,
      logger: this.logger,
      metrics: this.metrics,
    });
    if (opts.leaderElection) {
      this.#elector = new LeaderElector(
        this.client,
        { ...opts.leaderElection, identity: this.identity },
        { clock: this.#clock, logger: this.logger, metrics: this.metrics },
      );
    }
  }

  /**
   * The shared informer for a resource, namespace and selector (created on first use). With
   * `client` it reads another cluster (the target cluster of a machine controller). Indexers asked
   * for by a later caller are added to the shared cache.
   */
  informer<T extends KubeObject>(
    resource: ResourceRef,
    opts: Omit<InformerOptions<T>, "client" | "resource" | "logger" | "metrics" | "clock"> & {
      readonly client?: KubeClient;
    } = {},
  ): Informer<T> {
    const cluster = opts.client?.kubeConfig.getCurrentCluster()?.server ?? "";
    const { namespace, labelSelector, fieldSelector } = opts;
    const key = [cluster, resource.group, resource.plural, namespace, labelSelector, fieldSelector].join("|");
    let informer = this.#informers.get(key);
    if (!informer) {
      informer = new Informer<KubeObject>({
        ...(opts as InformerOptions<KubeObject>),
        client: opts.client ?? this.client,
        resource,
        logger: this.logger,
        metrics: this.metrics,
        clock: this.#clock,
        onIndexError: (index, obj, err) => this.#malformed(resource, index, obj, err),
      });
      this.#informers.set(key, informer);
      if (this.#abort) informer.start();
    } else if (opts.indexers) {
      informer.store.addIndexers(opts.indexers as Record<string, (o: KubeObject) => readonly string[]>);
    }
    return informer as unknown as Informer<T>;
  }

  /** An object an indexer cannot read: one warning and one Warning Event, once per object version. */
  #malformed(resource: ResourceRef, index: string, obj: KubeObject, err: unknown): void {
    const meta = obj.metadata ?? {};
    const why = err instanceof Error ? err.message : String(err);
    const note = `${resource.kind} ${meta.namespace ?? ""}/${meta.name ?? ""} is malformed (cache index ${index}: ${why}); it is cached but not indexed by ${index} until it is fixed`;
    this.logger.warn({ resource: resource.plural, namespace: meta.namespace, name: meta.name, index }, note);
    void this.events.record(obj, "Warning", MALFORMED_OBJECT_REASON, "Cache", note);
  }

  addController(controller: Controller): void {
    this.#controllers.push(controller);
    if (this.#leading) controller.start();
  }

  get leading(): boolean {
    return this.#leading;
  }

  /** Port of the health/metrics server (after start). */
  get httpPort(): number | undefined {
    return this.#httpPort;
  }

  /** Starts everything; resolves once the HTTP server listens (caches may still be syncing). */
  async start(): Promise<void> {
    if (this.#abort) return;
    this.#abort = new AbortController();
    const signal = this.#abort.signal;
    for (const informer of this.#informers.values()) informer.start();
    if (this.#opts.http) {
      this.#http = new HealthServer(
        { healthz: () => this.#healthz(), readyz: () => this.#readyz() },
        this.metrics.registry,
      );
      this.#httpPort = await this.#http.listen(this.#opts.http.host, this.#opts.http.port);
    }
    this.#gaugeTimer = setInterval(() => {
      for (const c of this.#controllers) c.queue?.observeUnfinished();
    }, 5_000);
    this.#gaugeTimer.unref();
    if (this.#elector) {
      this.#election = this.#elector.run(signal, {
        onStarted: () => void this.#startControllers(signal),
        onStopped: () => void this.#stopControllers(0),
      });
    } else {
      void this.#startControllers(signal);
    }
  }

  /** Resolves when every informer has synced. */
  async waitForCacheSync(signal?: AbortSignal): Promise<void> {
    await Promise.all([...this.#informers.values()].map((i) => i.waitForSync(signal)));
  }

  async stop(): Promise<void> {
    if (!this.#abort) return;
    const timeout = this.#opts.shutdownTimeoutMs ?? 30_000;
    this.logger.info("shutting down");
    await this.#stopControllers(timeout);
    this.#abort.abort();
    await this.#election;
    await Promise.all([...this.#informers.values()].map((i) => i.stop()));
    clearInterval(this.#gaugeTimer);
    await this.#http?.close();
    this.#abort = undefined;
  }

  /** Stops gracefully (within shutdownTimeoutMs) on SIGTERM or SIGINT, then exits the process. */
  stopOnSignals(): void {
    let stopping = false;
    // A repeated signal (Ctrl-C arrives from the terminal and from npm) changes nothing once stopping.
    const onSignal = (sig: NodeJS.Signals): void => {
      if (stopping) return;
      stopping = true;
      this.logger.info({ signal: sig }, "signal received");
      void this.stop().finally(() => process.exit(0));
    };
    process.on("SIGTERM", onSignal);
    process.on("SIGINT", onSignal);
  }

  async #startControllers(signal: AbortSignal): Promise<void> {
    await this.waitForCacheSync(signal);
    if (signal.aborted || (this.#elector && !this.#elector.leading)) return;
    this.#leading = true;
    for (const c of this.#controllers) c.start();
  }

  async #stopControllers(graceMs: number): Promise<void> {
    this.#leading = false;
    await Promise.all(this.#controllers.map((c) => c.stop(graceMs)));
  }

  #healthz(): { ok: boolean; detail: Record<string, unknown> } {
    const wedged = [...this.#informers.values()].filter((i) => !i.healthy()).map((i) => i.resource.plural);
    return { ok: wedged.length === 0, detail: { wedgedInformers: wedged } };
  }

  #readyz(): { ok: boolean; detail: Record<string, unknown> } {
    const notSynced = [...this.#informers.values()].filter((i) => !i.synced).map((i) => i.resource.plural);
    const role = this.#elector ? (this.#elector.leading ? "leader" : "standby") : "leader";
    return { ok: notSynced.length === 0, detail: { role, notSynced } };
  }
}
