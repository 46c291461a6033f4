import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import type { Registry } from "prom-client";
import { satisfies } from "semver";
import {
  type DriverLogger,
  noMetrics,
  type PluginContext,
  silentDriverLogger,
  systemClock,
} from "./context.ts";
import { DEFAULT_DRIVER_CALL_TIMEOUT_MS, decorate } from "./decorators.ts";
import type { Driver, DriverPlugin } from "./driver.ts";
import { MachineError } from "./errors.ts";
import { DriverMetrics } from "./metrics.ts";

interface PluginManifest {
  readonly name: string;
  readonly dir: string;
  readonly main: string;
  readonly providers: readonly string[];
  readonly core: string | undefined;
}

interface PackageJson {
  name?: string;
  version?: string;
  exports?: string | Record<string, string>;
  main?: string;
  sprout?: { providers?: string[]; core?: string };
}

const repoRoot = join(import.meta.dirname, "..", "..");

export interface DriverRegistryOptions {
  readonly pluginDirs?: readonly string[];
  /** What plugins get; env defaults to process.env, the logger to none, the clock to the system's. */
  readonly context?: Partial<PluginContext>;
  /** Where the driver and cloud API metrics go (the manager's registry); none when unset. */
  readonly metrics?: Registry;
  /** Deadline of every driver call (--driver-call-timeout); default 5 min. */
  readonly callTimeoutMs?: number;
}

/**
 * Finds driver plugins (packages under plugins/ whose package.json has a "sprout" section naming
 * the providers they serve and the core versions they work with) and loads the one a MachineClass's
 * `provider` names, on first use. The core never imports a plugin statically. Every driver it hands
 * out is wrapped (decorators.ts): a deadline per call, MCM's driver metrics, logs without secrets.
 */
export class DriverRegistry {
  readonly #dirs: readonly string[];
  readonly #env: PluginContext["env"];
  readonly #logger: DriverLogger;
  readonly #clock: PluginContext["clock"];
  readonly #metrics: DriverMetrics | undefined;
  readonly #timeoutMs: number;
  #manifests: Promise<PluginManifest[]> | undefined;
  readonly #drivers = new Map<string, Promise<Driver>>();
  readonly #overrides = new Map<string, Driver>();

  constructor(opts: DriverRegistryOptions = {}) {
    this.#dirs = opts.pluginDirs ?? [join(repoRoot, "plugins")];
    this.#env = opts.context?.env ?? process.env;
    this.#logger = opts.context?.logger ?? silentDriverLogger;
    this.#clock = opts.context?.clock ?? systemClock;
    this.#metrics = opts.metrics ? new DriverMetrics(opts.metrics) : undefined;
    this.#timeoutMs = opts.callTimeoutMs ?? DEFAULT_DRIVER_CALL_TIMEOUT_MS;
    if (!(this.#timeoutMs > 0)) throw new Error(`driver call timeout must be > 0, got ${this.#timeoutMs} ms`);
  }

  /** The context a plugin serving `provider` is created with. */
  contextFor(provider: string): PluginContext {
    return {
      env: this.#env,
      logger: this.#logger.child({ plugin: provider }),
      metrics: this.#metrics?.forProvider(provider) ?? noMetrics,
      clock: this.#clock,
    };
  }

  /** Serves a provider with a given driver instead of a plugin (embedding, tests); it is wrapped too. */
  register(provider: string, driver: Driver): void {
    this.#overrides.set(provider.toLowerCase(), this.#decorate(provider.toLowerCase(), driver));
  }

  #decorate(provider: string, driver: Driver): Driver {
    return decorate(driver, {
      provider,
      timeoutMs: this.#timeoutMs,
      logger: this.#logger,
      ...(this.#metrics ? { metrics: this.#metrics } : {}),
    });
  }

  /** Providers that installed plugins serve. */
  async providers(): Promise<string[]> {
    return [...this.#overrides.keys(), ...(await this.#load()).flatMap((m) => m.providers)];
  }

  /** The driver for a MachineClass provider; InvalidArgument when no plugin serves it. */
  driverFor(provider: string | undefined): Promise<Driver> {
    const key = (provider ?? "").toLowerCase();
    const override = this.#overrides.get(key);
    if (override) return Promise.resolve(override);
    let driver = this.#drivers.get(key);
    if (!driver) {
      driver = this.#create(key, provider ?? "");
      driver.catch(() => this.#drivers.delete(key));
      this.#drivers.set(key, driver);
    }
    return driver;
  }

  async #create(key: string, provider: string): Promise<Driver> {
    const manifests = await this.#load();
    const manifest = manifests.find((m) => m.providers.some((p) => p.toLowerCase() === key));
    if (!manifest) {
      const known = [...this.#overrides.keys(), ...manifests.flatMap((m) => m.providers)].join(", ");
      throw new MachineError(
        "InvalidArgument",
        `no driver plugin serves provider "${provider}" (MachineClass field provider); installed: ${known || "none"}`,
      );
    }
    const core = await coreVersion();
    if (manifest.core && !satisfies(core, manifest.core)) {
      throw new MachineError(
        "FailedPrecondition",
        `plugin ${manifest.name} supports sprout ${manifest.core}, this is ${core}`,
      );
    }
    const mod = (await import(pathToFileURL(join(manifest.dir, manifest.main)).href)) as {
      default?: DriverPlugin;
    };
    if (!mod.default || typeof mod.default.create !== "function") {
      throw new MachineError("Internal", `plugin ${manifest.name} has no default export with create()`);
    }
    const plugin = mod.default;
    return this.#decorate(plugin.name, await plugin.create(this.contextFor(plugin.name)));
  }

  #load(): Promise<PluginManifest[]> {
    this.#manifests ??= Promise.all(this.#dirs.map(readPlugins)).then((lists) => lists.flat());
    return this.#manifests;
  }
}

async function readPlugins(root: string): Promise<PluginManifest[]> {
  const entries = await readdir(root, { withFileTypes: true }).catch(() => []);
  const out: PluginManifest[] = [];
  for (const entry of entries) {
    if (!entry.isDirectory()) continue;
    const dir = join(root, entry.name);
    const pkg = JSON.parse(
      await readFile(join(dir, "package.json"), "utf8").catch(() => "{}"),
    ) as PackageJson;
    if (!pkg.sprout?.providers?.length) continue;
    const main =
      typeof pkg.exports === "string" ? pkg.exports : (pkg.exports?.["."] ?? pkg.main ?? "index.ts");
    out.push({
      name: pkg.name ?? entry.name,
      dir,
      main,
      providers: pkg.sprout.providers,
      core: pkg.sprout.core,
    });
  }
  return out;
}

let coreVersionCache: Promise<string> | undefined;
function coreVersion(): Promise<string> {
  coreVersionCache ??= readFile(join(repoRoot, "package.json"), "utf8").then(
    (text) => (JSON.parse(text) as PackageJson).version ?? "0.0.0",
  );
  return coreVersionCache;
}
