import { Counter, Histogram, type Registry } from "prom-client";
import type { CloudApiMetrics } from "./context.ts";

const buckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];

/** MCM's cloud API metric names (pkg/util/provider/metrics), defined once. */
export const DriverMetricNames = {
  requests: "mcm_cloud_api_requests_total",
  requestsFailed: "mcm_cloud_api_requests_failed_total",
  requestDuration: "mcm_cloud_api_api_request_duration_seconds",
  driverDuration: "mcm_cloud_api_driver_request_duration_seconds",
  driverFailed: "mcm_cloud_api_driver_requests_failed_total",
} as const;

/**
 * The driver metrics on one prom-client registry: the cloud API requests a plugin reports (by
 * provider and service) and every driver call the registry's decorator sees (by provider and
 * operation). Registering twice on one registry reuses the metrics already there.
 */
export class DriverMetrics {
  readonly requests: Counter<"provider" | "service">;
  readonly requestsFailed: Counter<"provider" | "service">;
  readonly requestDuration: Histogram<"provider" | "service">;
  readonly driverDuration: Histogram<"provider" | "operation">;
  readonly driverFailed: Counter<"provider" | "operation" | "error_code">;

  constructor(registry: Registry) {
    const registers = [registry];
    const counter = <L extends string>(name: string, help: string, labelNames: readonly L[]): Counter<L> =>
      (registry.getSingleMetric(name) as Counter<L> | undefined) ??
      new Counter({ name, help, labelNames, registers });
    const histogram = <L extends string>(
      name: string,
      help: string,
      labelNames: readonly L[],
    ): Histogram<L> =>
      (registry.getSingleMetric(name) as Histogram<L> | undefined) ??
      new Histogram({ name, help, labelNames, buckets, registers });
    const api = ["provider", "service"] as const;
    const op = ["provider", "operation"] as const;
    this.requests = counter(DriverMetricNames.requests, "Requests to the cloud provider's API.", api);
    this.requestsFailed = counter(
      DriverMetricNames.requestsFailed,
      "Failed requests to the cloud provider's API.",
      api,
    );
    this.requestDuration = histogram(
      DriverMetricNames.requestDuration,
      "Duration of requests to the cloud provider's API.",
      api,
    );
    this.driverDuration = histogram(
      DriverMetricNames.driverDuration,
      "Duration of driver calls (createMachine, deleteMachine, ...).",
      op,
    );
    this.driverFailed = counter(DriverMetricNames.driverFailed, "Driver calls that failed, by error code.", [
      ...op,
      "error_code",
    ]);
  }

  /** The CloudApiMetrics a plugin of `provider` gets in its PluginContext. */
  forProvider(provider: string): CloudApiMetrics {
    return {
      request: async <T>(service: string, request: () => Promise<T>): Promise<T> => {
        const labels = { provider, service };
        const end = this.requestDuration.startTimer(labels);
        this.requests.inc(labels);
        try {
          return await request();
        } catch (err) {
          this.requestsFailed.inc(labels);
          throw err;
        } finally {
          end();
        }
      },
    };
  }
}
