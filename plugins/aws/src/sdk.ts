import { createHash } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import {
  DescribeImagesCommand,
  DescribeInstancesCommand,
  EC2Client,
  type Filter,
  type Image,
  type Instance,
  ModifyInstanceAttributeCommand,
  RunInstancesCommand,
  type RunInstancesCommandInput,
  TerminateInstancesCommand,
} from "@aws-sdk/client-ec2";
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
}

export interface Ec2Options {
  /** Endpoint override (moto, LocalStack); else the SDK's resolution for the region. */
  readonly endpoint?: string;
  /** Attempts per call for transient failures (throttling, 5xx, no answer). Default 4. */
  readonly maxAttempts?: number;
  /** First backoff delay; it doubles per attempt, with full jitter. Default 250 ms. */
  readonly baseDelayMs?: number;
}

/** Retries fn while `retryable` says so, with exponential backoff and full jitter. */
export async function withBackoff<T>(
  fn: () => Promise<T>,
  retryable: (err: unknown) => boolean,
  opts: { maxAttempts: number; baseDelayMs: number },
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (attempt >= opts.maxAttempts || !retryable(err)) throw err;
      const cap = Math.min(opts.baseDelayMs * 2 ** (attempt - 1), 10_000);
      await sleep(Math.round(cap / 2 + (Math.random() * cap) / 2));
    }
  }
}

class SdkEc2 implements Ec2Port {
  readonly #client: EC2Client;
  readonly #retry: { maxAttempts: number; baseDelayMs: number };

  constructor(client: EC2Client, opts: Ec2Options) {
    this.#client = client;
    this.#retry = { maxAttempts: opts.maxAttempts ?? 4, baseDelayMs: opts.baseDelayMs ?? 250 };
  }

  #transient<T>(fn: () => Promise<T>): Promise<T> {
    return withBackoff(fn, isTransient, this.#retry);
  }

  async describeInstances(query: { filters?: Filter[]; instanceIds?: string[] }): Promise<Instance[]> {
    const out: Instance[] = [];
    let token: string | undefined;
    do {
      const page = await this.#transient(() =>
        this.#client.send(
          new DescribeInstancesCommand({
            ...(query.filters ? { Filters: query.filters } : {}),
            ...(query.instanceIds ? { InstanceIds: query.instanceIds } : { MaxResults: 1000 }),
            ...(token ? { NextToken: token } : {}),
          }),
        ),
      );
      for (const r of page.Reservations ?? []) out.push(...(r.Instances ?? []));
      token = page.NextToken;
    } while (token);
    return out;
  }

  async describeImage(imageId: string): Promise<Image | undefined> {
    const out = await this.#transient(() =>
      this.#client.send(new DescribeImagesCommand({ ImageIds: [imageId] })),
    );
    return out.Images?.[0];
  }

  async runInstance(input: RunInstancesCommandInput): Promise<Instance> {
    const out = await withBackoff(
      () => this.#client.send(new RunInstancesCommand(input)),
      isThrottling,
      this.#retry,
    );
    const instance = out.Instances?.[0];
    if (!instance?.InstanceId) throw new Error("RunInstances answered without an instance");
    return instance;
  }

  async terminateInstances(instanceIds: string[]): Promise<void> {
    await this.#transient(() =>
      this.#client.send(new TerminateInstancesCommand({ InstanceIds: instanceIds })),
    );
  }

  async disableSourceDestCheck(instanceId: string): Promise<void> {
    await this.#transient(() =>
      this.#client.send(
        new ModifyInstanceAttributeCommand({ InstanceId: instanceId, SourceDestCheck: { Value: false } }),
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
