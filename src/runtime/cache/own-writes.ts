/**
 * Which of a controller's own writes its cache has not shown yet. After a reconcile wrote an
 * object, the informer may still hand out the version read before the write; a reconcile of that
 * version would act a second time on what the first already did (create a second VM for a machine
 * it just failed). The controller records the version it wrote over and skips reconciles of it;
 * the write's own watch event brings the object back.
 */
export class OwnWrites {
  readonly #overwritten = new Map<string, Set<string>>();

  /** Records that a write of `key` replaced its version `resourceVersion`. */
  wrote(key: string, resourceVersion: string | undefined): void {
    if (!resourceVersion) return;
    const versions = this.#overwritten.get(key) ?? new Set<string>();
    versions.add(resourceVersion);
    this.#overwritten.set(key, versions);
  }

  /** Whether `resourceVersion` is one our writes replaced (the cache lags behind them). */
  stale(key: string, resourceVersion: string | undefined): boolean {
    const overwritten = this.#overwritten.get(key);
    if (overwritten === undefined) return false;
    if (resourceVersion !== undefined && overwritten.has(resourceVersion)) return true;
    this.#overwritten.delete(key);
    return false;
  }

  /** Forgets `key` (its object is gone). */
  forget(key: string): void {
    this.#overwritten.delete(key);
  }
}
