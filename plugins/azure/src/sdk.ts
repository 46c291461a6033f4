import { createHash } from "node:crypto";
import { ComputeManagementClient, type Disk, type VirtualMachine } from "@azure/arm-compute";
import { NetworkManagementClient, type NetworkInterface, type Subnet } from "@azure/arm-network";
import { ResourceManagementClient } from "@azure/arm-resources";
import { ResourceGraphClient } from "@azure/arm-resourcegraph";
import { ClientSecretCredential, type TokenCredential, WorkloadIdentityCredential } from "@azure/identity";
import { type CloudApiMetrics, withBackoff } from "sprout/driver";
import type { AzureCredentials } from "./credentials.ts";
import { isNotFound, isThrottling, isTransient } from "./errors.ts";

/** A row of a Resource Graph query over VMs, NICs and disks. */
export interface GraphRow {
  readonly type: string;
  readonly name: string;
}

/** The ARM calls the driver makes: a narrow port over the SDKs, so retries live in one place. */
export interface ArmPort {
  resourceGroupExists(group: string): Promise<boolean>;
  /** The subnet, or undefined when ARM does not know it. */
  getSubnet(group: string, vnet: string, subnet: string): Promise<Subnet | undefined>;
  /** Throws NotFound when the platform image does not exist in the location. */
  getImage(location: string, urn: readonly [string, string, string, string]): Promise<void>;
  getVm(group: string, name: string): Promise<VirtualMachine | undefined>;
  /** Sent once: only a throttled request (refused before anything happened) is repeated. */
  putVm(group: string, name: string, vm: VirtualMachine): Promise<VirtualMachine>;
  deleteVm(group: string, name: string): Promise<void>;
  getNic(group: string, name: string): Promise<NetworkInterface | undefined>;
  putNic(group: string, name: string, nic: NetworkInterface): Promise<NetworkInterface>;
  deleteNic(group: string, name: string): Promise<void>;
  getDisk(group: string, name: string): Promise<Disk | undefined>;
  putDisk(group: string, name: string, disk: Disk): Promise<Disk>;
  deleteDisk(group: string, name: string): Promise<void>;
  /** Every row of a Resource Graph query, following $skipToken through every page. */
  query(query: string): Promise<GraphRow[]>;
  /** The same port with every request (and every backoff wait) aborted by `signal`. */
  withSignal(signal: AbortSignal | undefined): ArmPort;
}

/** The metrics service labels, as MCM's Azure provider names its API groups. */
export const SERVICES = {
  compute: "virtual_machines",
  network: "network_interfaces",
  disks: "disks",
  resources: "resource_groups",
  graph: "resource_graph_query",
} as const;

/** Where a cloud's ARM and Entra endpoints are. */
export interface AzureCloud {
  readonly armEndpoint: string;
  readonly authorityHost: string;
}

export const CLOUDS: Readonly<Record<string, AzureCloud>> = {
  AzurePublic: {
    armEndpoint: "https://management.azure.com",
    authorityHost: "https://login.microsoftonline.com",
  },
  AzureGovernment: {
    armEndpoint: "https://management.usgovcloudapi.net",
    authorityHost: "https://login.microsoftonline.us",
  },
  AzureChina: {
    armEndpoint: "https://management.chinacloudapi.cn",
    authorityHost: "https://login.chinacloudapi.cn",
  },
};

export interface ArmOptions {
  /** ARM endpoint and Entra authority host overriding the cloud's (an emulator, Azure Stack). */
  readonly endpoint?: string;
  readonly authorityHost?: string;
  /** PEM of the CAs to trust instead of the system's (for an override endpoint). */
  readonly caPem?: string;
  /** Attempts per call for transient failures. Default 4. */
  readonly maxAttempts?: number;
  readonly baseDelayMs?: number;
  /** Resource Graph page size ($top, 1–1000). Default 1000. */
  readonly pageSize?: number;
  /** Interval between polls of a long-running operation. Default 2 s. */
  readonly pollIntervalMs?: number;
  readonly metrics?: CloudApiMetrics;
}

interface Clients {
  readonly compute: ComputeManagementClient;
  readonly network: NetworkManagementClient;
  readonly resources: ResourceManagementClient;
  readonly graph: ResourceGraphClient;
  readonly subscription: string;
}

const absent = async <T>(p: Promise<T>): Promise<T | undefined> => {
  try {
    return await p;
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
};

class SdkArm implements ArmPort {
  readonly #c: Clients;
  readonly #opts: ArmOptions;
  readonly #signal: AbortSignal | undefined;
  readonly #retry: { maxAttempts: number; baseDelayMs: number; signal: AbortSignal | undefined };

  constructor(clients: Clients, opts: ArmOptions, signal?: AbortSignal) {
    this.#c = clients;
    this.#opts = opts;
    this.#signal = signal;
    this.#retry = { maxAttempts: opts.maxAttempts ?? 4, baseDelayMs: opts.baseDelayMs ?? 250, signal };
  }

  withSignal(signal: AbortSignal | undefined): ArmPort {
    return new SdkArm(this.#c, this.#opts, signal);
  }

  get #o(): { abortSignal?: AbortSignal; updateIntervalInMs: number } {
    return {
      ...(this.#signal ? { abortSignal: this.#signal } : {}),
      updateIntervalInMs: this.#opts.pollIntervalMs ?? 2000,
    };
  }

  /** One request, retried while transient, counted in the cloud API metrics. */
  #call<T>(
    service: string,
    fn: () => Promise<T>,
    retryable: (err: unknown) => boolean = isTransient,
  ): Promise<T> {
    const once = () => (this.#opts.metrics ? this.#opts.metrics.request(service, fn) : fn());
    return withBackoff(once, retryable, this.#retry);
  }

  resourceGroupExists(group: string): Promise<boolean> {
    return this.#call(
      SERVICES.resources,
      async () => (await this.#c.resources.resourceGroups.checkExistence(group, this.#o)).body,
    );
  }

  getSubnet(group: string, vnet: string, subnet: string): Promise<Subnet | undefined> {
    return this.#call(SERVICES.network, () =>
      absent(this.#c.network.subnets.get(group, vnet, subnet, this.#o)),
    );
  }

  async getImage(
    location: string,
    [publisher, offer, sku, version]: readonly [string, string, string, string],
  ): Promise<void> {
    await this.#call(SERVICES.compute, () =>
      this.#c.compute.virtualMachineImages.get(location, publisher, offer, sku, version, this.#o),
    );
  }

  getVm(group: string, name: string): Promise<VirtualMachine | undefined> {
    return this.#call(SERVICES.compute, () =>
      absent(this.#c.compute.virtualMachines.get(group, name, this.#o)),
    );
  }

  putVm(group: string, name: string, vm: VirtualMachine): Promise<VirtualMachine> {
    return this.#call(
      SERVICES.compute,
      async () => await this.#c.compute.virtualMachines.createOrUpdate(group, name, vm, this.#o),
      isThrottling,
    );
  }

  async deleteVm(group: string, name: string): Promise<void> {
    await this.#call(SERVICES.compute, () =>
      absent(Promise.resolve(this.#c.compute.virtualMachines.delete(group, name, this.#o))),
    );
  }

  getNic(group: string, name: string): Promise<NetworkInterface | undefined> {
    return this.#call(SERVICES.network, () =>
      absent(this.#c.network.networkInterfaces.get(group, name, this.#o)),
    );
  }

  putNic(group: string, name: string, nic: NetworkInterface): Promise<NetworkInterface> {
    return this.#call(
      SERVICES.network,
      async () => await this.#c.network.networkInterfaces.createOrUpdate(group, name, nic, this.#o),
    );
  }

  async deleteNic(group: string, name: string): Promise<void> {
    await this.#call(SERVICES.network, () =>
      absent(Promise.resolve(this.#c.network.networkInterfaces.delete(group, name, this.#o))),
    );
  }

  getDisk(group: string, name: string): Promise<Disk | undefined> {
    return this.#call(SERVICES.disks, () => absent(this.#c.compute.disks.get(group, name, this.#o)));
  }

  putDisk(group: string, name: string, disk: Disk): Promise<Disk> {
    return this.#call(
      SERVICES.disks,
      async () => await this.#c.compute.disks.createOrUpdate(group, name, disk, this.#o),
    );
  }

  async deleteDisk(group: string, name: string): Promise<void> {
    await this.#call(SERVICES.disks, () =>
      absent(Promise.resolve(this.#c.compute.disks.delete(group, name, this.#o))),
    );
  }

  async query(query: string): Promise<GraphRow[]> {
    const rows: GraphRow[] = [];
    let skipToken: string | undefined;
    do {
      const token = skipToken;
      const page = await this.#call(SERVICES.graph, () =>
        this.#c.graph.resources(
          {
            query,
            subscriptions: [this.#c.subscription],
            options: { top: this.#opts.pageSize ?? 1000, ...(token ? { skipToken: token } : {}) },
          },
          this.#o,
        ),
      );
      for (const row of Array.isArray(page.data) ? (page.data as unknown[]) : []) {
        const r = row as { type?: unknown; name?: unknown };
        if (typeof r.type === "string" && typeof r.name === "string")
          rows.push({ type: r.type, name: r.name });
      }
      skipToken = page.skipToken;
    } while (skipToken);
    return rows;
  }
}

const MAX_CLIENTS = 32;

/**
 * One set of SDK clients per endpoint and credentials, reused across calls. The key is a hash, so
 * credentials are not kept as map keys. The SDKs' own retries are off, so that a VM PUT is never
 * repeated blindly and the port decides.
 */
export class ArmClients {
  readonly #opts: ArmOptions;
  readonly #ports = new Map<string, ArmPort>();

  constructor(opts: ArmOptions = {}) {
    this.#opts = opts;
  }

  get(cloudName: string | undefined, creds: AzureCredentials): ArmPort {
    const cloud = CLOUDS[cloudName ?? "AzurePublic"] ?? CLOUDS.AzurePublic;
    const endpoint = this.#opts.endpoint ?? cloud?.armEndpoint ?? "";
    const authorityHost = this.#opts.authorityHost ?? cloud?.authorityHost ?? "";
    const key = createHash("sha256")
      .update(
        [
          endpoint,
          authorityHost,
          creds.tenantID,
          creds.clientID,
          creds.clientSecret ?? "",
          creds.workloadIdentityTokenFile ?? "",
          creds.subscriptionID,
        ].join("\n"),
      )
      .digest("hex");
    let port = this.#ports.get(key);
    if (!port) {
      const tls = this.#opts.caPem ? { tlsOptions: { ca: this.#opts.caPem } } : {};
      const credential = credentialFor(creds, authorityHost, this.#opts.authorityHost !== undefined, tls);
      const options = {
        endpoint,
        credentials: { scopes: [`${endpoint}/.default`] },
        retryOptions: { maxRetries: 0 },
        ...tls,
      };
      port = new SdkArm(
        {
          compute: new ComputeManagementClient(credential, creds.subscriptionID, options),
          network: new NetworkManagementClient(credential, creds.subscriptionID, options),
          resources: new ResourceManagementClient(credential, creds.subscriptionID, options),
          graph: new ResourceGraphClient(credential, options),
          subscription: creds.subscriptionID,
        },
        this.#opts,
      );
      this.#ports.set(key, port);
      const oldest = this.#ports.size > MAX_CLIENTS ? this.#ports.keys().next().value : undefined;
      if (oldest !== undefined) this.#ports.delete(oldest);
    }
    return port;
  }
}

function credentialFor(
  c: AzureCredentials,
  authorityHost: string,
  custom: boolean,
  tls: { tlsOptions?: { ca: string } },
): TokenCredential {
  // An authority other than Azure's own clouds cannot be checked by instance discovery.
  const common = { authorityHost, disableInstanceDiscovery: custom, retryOptions: { maxRetries: 0 }, ...tls };
  if (c.workloadIdentityTokenFile) {
    return new WorkloadIdentityCredential({
      ...common,
      tenantId: c.tenantID,
      clientId: c.clientID,
      tokenFilePath: c.workloadIdentityTokenFile,
    });
  }
  return new ClientSecretCredential(c.tenantID, c.clientID, c.clientSecret ?? "", common);
}
