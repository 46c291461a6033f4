import { createHash } from "node:crypto";
import {
  DeleteNetworkInterfaceCommand,
  DeleteVolumeCommand,
  DescribeImagesCommand,
  DescribeInstancesCommand,
  DescribeNetworkInterfacesCommand,
  DescribeVolumesCommand,
  EC2Client,
  type Filter,
  type Image,
  type Instance,
  ModifyInstanceAttributeCommand,
  type NetworkInterface,
  RunInstancesCommand,
  type RunInstancesCommandInput,
  TerminateInstancesCommand,
  type Volume,
} from "@aws-sdk/client-ec2";
import { type CloudApiMetrics, withBackoff } from "sprout/driver";
import type { AwsCredentials } from "./credentials.ts";
import { isThrottling, isTransient } from "./errors.ts";

/** The EC2 calls the driver makes: a narrow port over the SDK, so retries live in one place. */
export interface Ec2Port {
  /** Every instance matching (all pages). */
  describeInstances(query: { filters?: Filter[]; instanceIds?: string[] }): Promise<Instance[]>;
  /** The image, or undefined when EC2 does not know it. */
  describeImage(imageId: string): Promise<Image | undefined>;
  /** One instance. Sent once: only a throttled request (refused before anything happened) is repeated. */
  runInstance(input: RunInstancesCommandInput): Promise<Instance>;
  terminateInstances(instanceIds: string[]): Promise<void>;
  disableSourceDestCheck(instanceId: string): Promise<void>;
  /** Every network interface matching (all pages). */
  describeNetworkInterfaces(filters: Filter[]): Promise<NetworkInterface[]>;
  /** Every EBS volume matching (all pages). */
  describeVolumes(filters: Filter[]): Promise<Volume[]>;
  deleteNetworkInterface(id: string): Promise<void>;
  deleteVolume(id: string): Promise<void>;
  /** The same port with every request (and every backoff wait) aborted by `signal`. */
  withSignal(signal: AbortSignal | undefined): Ec2Port;
}

/** The metrics service label of every EC2 request, as MCM's AWS provider reports it. */
export const EC2_SERVICE = "ec2";

export interface Ec2Options {
  /** Endpoint override (moto, LocalStack); else the SDK's resolution for the region. */
  readonly endpoint?: string;
  /** Attempts per call for transient failures (throttling, 5xx, no answer). Default 4. */
  readonly maxAttempts?: number;
  /** First backoff delay; it doubles per attempt, with full jitter. Default 250 ms. */
  readonly baseDelayMs?: number;
  /** DescribeInstances page size (5–1000) when filtering by tags. Default 1000. */
  readonly pageSize?: number;
  /** Where each EC2 request is counted (mcm_cloud_api_requests_total, service "ec2"). */
  readonly metrics?: CloudApiMetrics;
}

class SdkEc2 implements Ec2Port {
  readonly #client: EC2Client;
  readonly #opts: Ec2Options;
  readonly #signal: AbortSignal | undefined;
  readonly #retry: { maxAttempts: number; baseDelayMs: number; signal: AbortSignal | undefined };

  constructor(client: EC2Client, opts: Ec2Options, signal?: AbortSignal) {
    this.#client = client;
    this.#opts = opts;
    this.#signal = signal;
    this.#retry = { maxAttempts: opts.maxAttempts ?? 4, baseDelayMs: opts.baseDelayMs ?? 250, signal };
  }

  withSignal(signal: AbortSignal | undefined): Ec2Port {
    return new SdkEc2(this.#client, this.#opts, signal);
  }

  /** One EC2 request: aborted by the call's signal, counted in the cloud API metrics. */
  #send<T>(request: (client: EC2Client, options: { abortSignal?: AbortSignal }) => Promise<T>): Promise<T> {
    const send = () => request(this.#client, this.#signal ? { abortSignal: this.#signal } : {});
    return this.#opts.metrics ? this.#opts.metrics.request(EC2_SERVICE, send) : send();
  }

  #transient<T>(fn: () => Promise<T>): Promise<T> {
    return withBackoff(fn, isTransient, this.#retry);
  }

  /** Follows NextToken through every page of a describe call. */
  async #pages<P extends { NextToken?: string | undefined }>(
    request: (c: EC2Client, o: { abortSignal?: AbortSignal }, token: string | undefined) => Promise<P>,
  ): Promise<P[]> {
    const out: P[] = [];
    let token: string | undefined;
    do {
      const page = await this.#transient(() => this.#send((c, o) => request(c, o, token)));
      out.push(page);
      token = page.NextToken;
    } while (token);
    return out;
  }

  async describeInstances(query: { filters?: Filter[]; instanceIds?: string[] }): Promise<Instance[]> {
    const pages = await this.#pages((c, o, token) =>
      c.send(
        new DescribeInstancesCommand({
          ...(query.filters ? { Filters: query.filters } : {}),
          ...(query.instanceIds ? { InstanceIds: query.instanceIds } : { MaxResults: this.#pageSize }),
          ...(token ? { NextToken: token } : {}),
        }),
        o,
      ),
    );
    return pages.flatMap((p) => (p.Reservations ?? []).flatMap((r) => r.Instances ?? []));
  }

  async describeNetworkInterfaces(filters: Filter[]): Promise<NetworkInterface[]> {
    const pages = await this.#pages((c, o, token) =>
      c.send(
        new DescribeNetworkInterfacesCommand({
          Filters: filters,
          MaxResults: this.#pageSize,
          ...(token ? { NextToken: token } : {}),
        }),
        o,
      ),
    );
    return pages.flatMap((p) => p.NetworkInterfaces ?? []);
  }

  async describeVolumes(filters: Filter[]): Promise<Volume[]> {
    const pages = await this.#pages((c, o, token) =>
      c.send(
        new DescribeVolumesCommand({
          Filters: filters,
          MaxResults: Math.min(this.#pageSize, 500),
          ...(token ? { NextToken: token } : {}),
        }),
        o,
      ),
    );
    return pages.flatMap((p) => p.Volumes ?? []);
  }

  async deleteNetworkInterface(id: string): Promise<void> {
    await this.#transient(() =>
      this.#send((c, o) => c.send(new DeleteNetworkInterfaceCommand({ NetworkInterfaceId: id }), o)),
    );
  }

  async deleteVolume(id: string): Promise<void> {
    await this.#transient(() => this.#send((c, o) => c.send(new DeleteVolumeCommand({ VolumeId: id }), o)));
  }

  get #pageSize(): number {
    return this.#opts.pageSize ?? 1000;
  }

  async describeImage(imageId: string): Promise<Image | undefined> {
    const out = await this.#transient(() =>
      this.#send((c, o) => c.send(new DescribeImagesCommand({ ImageIds: [imageId] }), o)),
    );
    return out.Images?.[0];
  }

  async runInstance(input: RunInstancesCommandInput): Promise<Instance> {
    const out = await withBackoff(
      () => this.#send((c, o) => c.send(new RunInstancesCommand(input), o)),
      isThrottling,
      this.#retry,
    );
    const instance = out.Instances?.[0];
    if (!instance?.InstanceId) throw new Error("RunInstances answered without an instance");
    return instance;
  }

  async terminateInstances(instanceIds: string[]): Promise<void> {
    await this.#transient(() =>
      this.#send((c, o) => c.send(new TerminateInstancesCommand({ InstanceIds: instanceIds }), o)),
    );
  }

  async disableSourceDestCheck(instanceId: string): Promise<void> {
    await this.#transient(() =>
      this.#send((c, o) =>
        c.send(
          new ModifyInstanceAttributeCommand({ InstanceId: instanceId, SourceDestCheck: { Value: false } }),
          o,
        ),
      ),
    );
  }
}

const MAX_CLIENTS = 32;

/**
 * One SDK client per endpoint, region and credentials (the SDK's advice), reused across calls. The
 * key is a hash, so credentials are not kept as map keys.
 */
export class Ec2Clients {
  readonly #opts: Ec2Options;
  readonly #clients = new Map<string, Ec2Port & { destroy(): void }>();

  constructor(opts: Ec2Options = {}) {
    this.#opts = opts;
  }

  get(region: string, credentials: AwsCredentials): Ec2Port {
    const key = createHash("sha256")
      .update(
        [this.#opts.endpoint ?? "", region, credentials.accessKeyId, credentials.secretAccessKey].join("\n"),
      )
      .digest("hex");
    let port = this.#clients.get(key);
    if (!port) {
      const client = new EC2Client({
        region,
        credentials: { accessKeyId: credentials.accessKeyId, secretAccessKey: credentials.secretAccessKey },
        ...(this.#opts.endpoint ? { endpoint: this.#opts.endpoint } : {}),
        // Retries are done by SdkEc2, so that RunInstances is never repeated blindly.
        maxAttempts: 1,
        requestHandler: { connectionTimeout: 5_000, requestTimeout: 60_000 },
      });
      port = Object.assign(new SdkEc2(client, this.#opts), { destroy: () => client.destroy() });
      this.#clients.set(key, port);
      const oldest = this.#clients.size > MAX_CLIENTS ? this.#clients.keys().next().value : undefined;
      if (oldest !== undefined) {
        this.#clients.get(oldest)?.destroy();
        this.#clients.delete(oldest);
      }
    }
    return port;
  }

  /** Closes every client's connections. */
  destroy(): void {
    for (const port of this.#clients.values()) port.destroy();
    this.#clients.clear();
  }
}
