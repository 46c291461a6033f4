import { resolveIntOrPercent } from "../../api/intorpercent.ts";
import { phaseOf } from "../../api/machine-state.ts";
import { Labels } from "../../api/constants.ts";
import type { Machine } from "../../api/v1alpha1/machine.ts";
import type { MachineDeployment } from "../../api/v1alpha1/machinedeployment.ts";
import type { ObjectStore } from "../../runtime/cache/store.ts";
import type { Clock } from "../../runtime/clock.ts";
import type { KubeObject } from "../../runtime/client/client.ts";

/** Index of machines by their deployment (the `name` label). */
export const DEPLOYMENT_INDEX = "deployment";

/** How long a granted permit counts before the cache must show the machine Failed. */
const RESERVATION_TTL_MS = 60_000;

const replacing = (m: Machine): boolean =>
  Boolean(m.metadata?.deletionTimestamp) || !["Running", "Unknown"].includes(phaseOf(m));

export interface Permit {
  readonly allowed: boolean;
  readonly message: string;
}

/**
 * MCM's permits to mark an unhealthy machine Failed (and so replace it), with the limit taken from
 * the deployment's spec.maxReplacements (a number or a percentage of replicas, at least 1; 1 when
 * unset, MCM's fixed value). Machines of the deployment that are being created, have failed or are
 * being deleted count as replacements in flight, and so does every permit granted until the cache
 * shows its machine Failed: concurrent workers cannot both take the last permit.
 */
export class ReplacementPermits {
  readonly #machines: ObjectStore<Machine & KubeObject>;
  readonly #deployments: ObjectStore<MachineDeployment & KubeObject>;
  readonly #clock: Clock;
  /** deployment key → machine name → when the permit was granted. */
  readonly #granted = new Map<string, Map<string, number>>();

  constructor(
    machines: ObjectStore<Machine & KubeObject>,
    deployments: ObjectStore<MachineDeployment & KubeObject>,
    clock: Clock,
  ) {
    this.#machines = machines;
    this.#deployments = deployments;
    this.#clock = clock;
  }

  permit(machine: Machine): Permit {
    const name = machine.metadata?.labels?.[Labels.name];
    const self = machine.metadata?.name ?? "";
    const namespace = machine.metadata?.namespace ?? "";
    if (!name) return { allowed: true, message: "" };
    const key = `${namespace}/${name}`;
    const limit = this.#limitOf(key);
    const siblings = this.#machines
      .byIndex(DEPLOYMENT_INDEX, name)
      .filter((m) => m.metadata?.namespace === namespace && m.metadata.name !== self);
    const inFlight = new Set(siblings.filter(replacing).map((m) => m.metadata?.name ?? ""));
    const granted = this.#live(key, siblings);
    for (const n of granted.keys()) if (n !== self) inFlight.add(n);
    if (inFlight.size >= limit) {
      const message = `Machine ${self} stays Unknown: ${String(inFlight.size)} machines of deployment ${name} are already being replaced (maxReplacements ${String(limit)})`;
      return { allowed: false, message };
    }
    granted.set(self, this.#clock.now());
    return { allowed: true, message: "" };
  }

  /** spec.maxReplacements of the deployment, resolved against its replicas; 1 without one. */
  #limitOf(key: string): number {
    const spec = this.#deployments.get(key)?.spec;
    return Math.max(1, resolveIntOrPercent(spec?.maxReplacements, spec?.replicas ?? 0, false, 1));
  }

  /** The permits of a deployment still waiting for the cache (expired and settled ones dropped). */
  #live(key: string, siblings: readonly Machine[]): Map<string, number> {
    const granted = this.#granted.get(key) ?? new Map<string, number>();
    this.#granted.set(key, granted);
    const now = this.#clock.now();
    const byName = new Map(siblings.map((m) => [m.metadata?.name ?? "", m]));
    for (const [n, at] of granted) {
      const m = byName.get(n);
      if (!m || replacing(m) || now - at > RESERVATION_TTL_MS) granted.delete(n);
    }
    return granted;
  }
}
