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
    const r = [registry];
    this.queueDepth = new Gauge({
      name: "workqueue_depth",
      help: "Current depth of the workqueue.",
      labelNames: ["name"],
      registers: r,
    });
    this.queueAdds = new Counter({
      name: "workqueue_adds_total",
      help: "Adds handled by the workqueue.",
      labelNames: ["name"],
      registers: r,
    });
    this.queueRetries = new Counter({
      name: "workqueue_retries_total",
      help: "Rate-limited re-adds.",
      labelNames: ["name"],
      registers: r,
    });
    this.queueLatency = new Histogram({
      name: "workqueue_queue_duration_seconds",
      help: "Time an item waits in the queue before it is handed to a worker.",
      labelNames: ["name"],
      buckets: durationBuckets,
      registers: r,
    });
    this.workDuration = new Histogram({
      name: "workqueue_work_duration_seconds",
      help: "Time a worker spends on an item.",
      labelNames: ["name"],
      buckets: durationBuckets,
      registers: r,
    });
    this.unfinishedWork = new Gauge({
      name: "workqueue_unfinished_work_seconds",
      help: "Seconds of work in progress not yet observed by work_duration.",
      labelNames: ["name"],
      registers: r,
    });
    this.longestRunning = new Gauge({
      name: "workqueue_longest_running_processor_seconds",
      help: "How long the longest running item has been worked on.",
      labelNames: ["name"],
      registers: r,
    });
    this.reconcileTotal = new Counter({
      name: "controller_runtime_reconcile_total",
      help: "Reconciliations by result (success, requeue_after, error, terminal_error).",
      labelNames: ["controller", "result"],
      registers: r,
    });
    this.reconcileErrors = new Counter({
      name: "controller_runtime_reconcile_errors_total",
      help: "Reconciliations that ended in an error.",
      labelNames: ["controller"],
      registers: r,
    });
    this.terminalErrors = new Counter({
      name: "controller_runtime_terminal_reconcile_errors_total",
      help: "Reconciliations that ended in a terminal (not retried) error.",
      labelNames: ["controller"],
      registers: r,
    });
    this.reconcileTime = new Histogram({
      name: "controller_runtime_reconcile_time_seconds",
      help: "Duration of reconciliations.",
      labelNames: ["controller"],
      buckets: durationBuckets,
      registers: r,
    });
    this.activeWorkers = new Gauge({
      name: "controller_runtime_active_workers",
      help: "Workers currently reconciling.",
      labelNames: ["controller"],
      registers: r,
    });
    this.apiRequests = new Counter({
      name: "rest_client_requests_total",
      help: "Requests to the Kubernetes API by verb, resource and HTTP status code.",
      labelNames: ["verb", "resource", "code"],
      registers: r,
    });
    this.apiLatency = new Histogram({
      name: "rest_client_request_duration_seconds",
      help: "Latency of requests to the Kubernetes API.",
      labelNames: ["verb", "resource"],
      buckets: durationBuckets,
      registers: r,
    });
    this.leader = new Gauge({
      name: "leader_election_master_status",
      help: "1 while this process holds the named lease.",
      labelNames: ["name"],
      registers: r,
    });
    this.informerRelists = new Counter({
      name: "sprout_informer_relists_total",
      help: "Full relists of an informer, by reason (initial, expired, error).",
      labelNames: ["resource", "reason"],
      registers: r,
    });
    this.informerObjects = new Gauge({
      name: "sprout_informer_objects",
      help: "Objects held by an informer's cache.",
      labelNames: ["resource"],
      registers: r,
    });
    this.eventsDropped = new Counter({
      name: "sprout_events_dropped_total",
      help: "Events not sent, by reason (rate_limited, error).",
      labelNames: ["reason"],
      registers: r,
    });
  }
}
