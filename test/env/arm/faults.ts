/**
 * Faults the loopback ARM server injects on demand: what Azure does under capacity pressure,
 * quota, throttling or a lost connection, answered in ARM's own shapes so the SDKs' real error
 * handling runs.
 */
export interface ArmFault {
  /** Request kind (virtualMachines, networkInterfaces, disks, subnets, resourceGraph, token, …); any when unset. */
  readonly resource?: string;
  /** HTTP method; any when unset. */
  readonly method?: string;
  /** HTTP status of the error answer (default 500). */
  readonly status?: number;
  /** ARM error code (ZonalAllocationFailed, SkuNotAvailable, TooManyRequests, …). */
  readonly code?: string;
  readonly message?: string;
  /** Retry-After seconds sent with the answer (throttling). */
  readonly retryAfter?: number;
  /** A VM PUT is accepted (201) and its VM made, then the operation fails with `code` and the VM stays Failed. */
  readonly asyncFailure?: boolean;
  /** The request is carried out, and the connection closed without an answer. */
  readonly loseAnswer?: boolean;
  /** How many matching requests it hits; unlimited when unset. */
  readonly times?: number;
}

export class Faults {
  #active: { fault: ArmFault; left: number }[] = [];
  readonly #calls = new Map<string, number>();

  add(fault: ArmFault): void {
    this.#active.push({ fault, left: fault.times ?? Infinity });
  }

  clear(): void {
    this.#active = [];
  }

  /** The first fault matching the request, counted as used. */
  take(resource: string, method: string): ArmFault | undefined {
    const hit = this.#active.find(
      (a) =>
        a.left > 0 &&
        (a.fault.resource === undefined || a.fault.resource === resource) &&
        (a.fault.method === undefined || a.fault.method === method),
    );
    if (!hit) return undefined;
    hit.left--;
    return hit.fault;
  }

  count(resource: string, method: string): void {
    const k = `${resource} ${method}`;
    this.#calls.set(k, (this.#calls.get(k) ?? 0) + 1);
  }

  /** Requests seen of one kind (and method). */
  calls(resource: string, method?: string): number {
    let n = 0;
    for (const [k, v] of this.#calls) {
      const [r, m] = k.split(" ");
      if (r === resource && (method === undefined || m === method)) n += v;
    }
    return n;
  }
}
