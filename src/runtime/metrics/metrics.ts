import { Counter, Gauge, Histogram, Registry } from "prom-client";

const durationBuckets = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

/**
 * Every metric of the runtime, defined once, on a registry of its own (so several managers in one
 * process never collide). Names follow controller-runtime and client-go, which dashboards know.
 * docs/contracts/metrics.md lists them.
 */
export class RuntimeMetrics {
  readonly registry: Registry;
  readonly queueDepth: Gauge<"name">;
  readonly queueAdds: Counter<"name">;
  readonly queueRetries: Counter<"name">;
  readonly queueLatency: Histogram<"name">;
  readonly workDuration: Histogram<"name">;
  readonly unfinishedWork: Gauge<"name">;
  readonly longestRunning: Gauge<"name">;
  readonly reconcileTotal: Counter<"controller" | "result">;
  readonly reconcileErrors: Counter<"controller">;
  readonly terminalErrors: Counter<"controller">;
  readonly reconcileTime: Histogram<"controller">;
  readonly activeWorkers: Gauge<"controller">;
  readonly apiRequests: Counter<"verb" | "resource" | "code">;
  readonly apiLatency: Histogram<"verb" | "resource">;
  readonly leader: Gauge<"name">;
  readonly informerRelists: Counter<"resource" | "reason">;
  readonly informerObjects: Gauge<"resource">;
  readonly eventsDropped: Counter<"reason">;

  constructor(registry = new Registry()) {
    this.registry = registry;
    const registers = [registry];
    const gauge = <L extends string>(name: string, help: string, labelNames: readonly L[]): Gauge<L> =>
      new Gauge({ name, help, labelNames, registers });
    const counter = <L extends string>(name: string, help: string, labelNames: readonly L[]): Counter<L> =>
      new Counter({ name, help, labelNames, registers });
    const histogram = <L extends string>(
      name: string,
      help: string,
      labelNames: readonly L[],
    ): Histogram<L> => new Histogram({ name, help, labelNames, buckets: durationBuckets, registers });
    const q = ["name"] as const;
    const c = ["controller"] as const;
    this.queueDepth = gauge("workqueue_depth", "Current depth of the workqueue.", q);
    this.queueAdds = counter("workqueue_adds_total", "Adds handled by the workqueue.", q);
    this.queueRetries = counter("workqueue_retries_total", "Rate-limited re-adds.", q);
    this.queueLatency = histogram(
      "workqueue_queue_duration_seconds",
      "Time an item waits in the queue before it is handed to a worker.",
      q,
    );
    this.workDuration = histogram("workqueue_work_duration_seconds", "Time a worker spends on an item.", q);
    this.unfinishedWork = gauge(
      "workqueue_unfinished_work_seconds",
      "Seconds of work in progress not yet observed by work_duration.",
      q,
    );
    this.longestRunning = gauge(
      "workqueue_longest_running_processor_seconds",
      "How long the longest running item has been worked on.",
      q,
    );
    this.reconcileTotal = counter(
      "controller_runtime_reconcile_total",
      "Reconciliations by result (success, requeue_after, error, terminal_error).",
      ["controller", "result"],
    );
    this.reconcileErrors = counter(
      "controller_runtime_reconcile_errors_total",
      "Reconciliations that ended in an error.",
      c,
    );
    this.terminalErrors = counter(
      "controller_runtime_terminal_reconcile_errors_total",
      "Reconciliations that ended in a terminal (not retried) error.",
      c,
    );
    this.reconcileTime = histogram(
      "controller_runtime_reconcile_time_seconds",
      "Duration of reconciliations.",
      c,
    );
    this.activeWorkers = gauge("controller_runtime_active_workers", "Workers currently reconciling.", c);
    this.apiRequests = counter(
      "rest_client_requests_total",
      "Requests to the Kubernetes API by verb, resource and HTTP status code.",
      ["verb", "resource", "code"],
    );
    this.apiLatency = histogram(
      "rest_client_request_duration_seconds",
      "Latency of requests to the Kubernetes API.",
      ["verb", "resource"],
    );
    this.leader = gauge("leader_election_master_status", "1 while this process holds the named lease.", q);
    this.informerRelists = counter(
      "sprout_informer_relists_total",
      "Full relists of an informer, by reason (initial, expired, error).",
      ["resource", "reason"],
    );
    this.informerObjects = gauge("sprout_informer_objects", "Objects held by an informer's cache.", [
      "resource",
    ]);
    this.eventsDropped = counter(
      "sprout_events_dropped_total",
      "Events not sent, by reason (rate_limited, error).",
      ["reason"],
    );
  }
}
