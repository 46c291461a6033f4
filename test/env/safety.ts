import type { Registry } from "prom-client";
import type { KubeClient, KubeObject } from "../../src/runtime/client/client.ts";
import { Resources } from "../../src/runtime/client/resources.ts";

export interface EventObject {
  reason?: string;
  note?: string;
  regarding?: { kind?: string; name?: string };
  deprecatedCount?: number;
}

/** The namespace's Events of one reason (events.k8s.io/v1). */
export async function eventsOf(
  client: KubeClient,
  namespace: string,
  reason: string,
): Promise<EventObject[]> {
  const { items } = await client.list<EventObject & KubeObject>(Resources.events, namespace);
  return items.filter((e) => e.reason === reason);
}

/** The sum of a metric's samples whose labels include `labels` (0 when it has none). */
export async function metricValue(
  registry: Registry,
  name: string,
  labels: Record<string, string> = {},
): Promise<number> {
  const metric = registry.getSingleMetric(name);
  if (!metric) return 0;
  const { values } = await metric.get();
  return values
    .filter((v) => Object.entries(labels).every(([k, want]) => String(v.labels[k]) === want))
    .reduce((n, v) => n + v.value, 0);
}
