import { readFile } from "node:fs/promises";
import { isIPv4, isIPv6 } from "node:net";
import { join } from "node:path";
import * as grpc from "@grpc/grpc-js";
import { loadSync } from "@grpc/proto-loader";
import type { Logger } from "../../runtime/log.ts";
import { AutoscalerError } from "./errors.ts";
import type { NodeRef } from "./model.ts";
import type { AutoscalerProvider } from "./provider.ts";

/** The service definition of externalgrpc.proto (field names as written, 64-bit numbers as strings). */
export const PROTO_PATH = join(import.meta.dirname, "externalgrpc.proto");
const SERVICE = "clusterautoscaler.cloudprovider.v1.externalgrpc.CloudProvider";
const definition = loadSync(PROTO_PATH, { keepCase: true, longs: String, enums: Number, defaults: true });
const service = definition[SERVICE] as grpc.ServiceDefinition;

/** Client certificates: the server's certificate and key, and the CA its clients' certificates chain to. */
export interface TlsFiles {
  readonly cert: string;
  readonly key: string;
  readonly ca: string;
}

export interface AutoscalerServerOptions {
  readonly provider: AutoscalerProvider;
  /** HOST:PORT; port 0 picks a free one. */
  readonly address: string;
  /** mTLS; without it the address must be a loopback one. */
  readonly tls?: TlsFiles | undefined;
  readonly logger?: Logger | undefined;
}

export interface AutoscalerServer {
  /** The port it listens on. */
  readonly port: number;
  stop(): Promise<void>;
}

const LOOPBACK = /^(localhost|127\.\d+\.\d+\.\d+|::1|\[::1\])$/;

/** Splits HOST:PORT ([::1]:PORT for IPv6); a clear error for anything else. */
export function parseAddress(address: string): { host: string; port: number } {
  const m = /^(\[[^\]]+\]|[^:]+):(\d{1,5})$/.exec(address.trim());
  const host = m?.[1] ?? "";
  const port = Number(m?.[2] ?? Number.NaN);
  const bare = host.replace(/^\[|\]$/g, "");
  if (
    !m ||
    port > 65535 ||
    !(host === "localhost" || isIPv4(bare) || isIPv6(bare) || /^[a-z0-9.-]+$/i.test(host))
  ) {
    throw new Error(`--autoscaler-grpc-address=${address} is not HOST:PORT`);
  }
  return { host, port };
}

type Unary = (request: Record<string, unknown>) => unknown;

const num = (v: unknown): number => (typeof v === "number" ? v : Number(v ?? 0));
const str = (v: unknown): string => (typeof v === "string" ? v : "");
const node = (v: unknown): NodeRef => (v && typeof v === "object" ? v : {});

function handlers(p: AutoscalerProvider): Record<string, Unary> {
  const unimplemented = (what: string) => () => {
    throw new AutoscalerError("Unimplemented", `${what} is not implemented by sprout`);
  };
  return {
    NodeGroups: async () => ({ nodeGroups: await p.nodeGroups() }),
    NodeGroupForNode: async (r) => ({ nodeGroup: await p.nodeGroupForNode(node(r.node)) }),
    PricingNodePrice: unimplemented("pricing"),
    PricingPodPrice: unimplemented("pricing"),
    GPULabel: () => ({ label: p.gpuLabel() }),
    GetAvailableGPUTypes: () => ({ gpuTypes: {} }),
    Cleanup: () => ({}),
    Refresh: () => (p.refresh(), {}),
    NodeGroupTargetSize: async (r) => ({ targetSize: await p.targetSize(str(r.id)) }),
    NodeGroupIncreaseSize: async (r) => (await p.increaseSize(str(r.id), num(r.delta)), {}),
    NodeGroupDeleteNodes: async (r) => {
      const nodes = Array.isArray(r.nodes) ? r.nodes.map(node) : [];
      await p.deleteNodes(str(r.id), nodes);
      return {};
    },
    NodeGroupDecreaseTargetSize: async (r) => (await p.decreaseTargetSize(str(r.id), num(r.delta)), {}),
    NodeGroupNodes: async (r) => ({ instances: await p.nodes(str(r.id)) }),
    NodeGroupTemplateNodeInfo: async (r) => {
      const bytes = await p.templateNode(str(r.id));
      return { nodeInfo: bytes, nodeBytes: bytes, resourceSliceBytes: [] };
    },
    NodeGroupGetOptions: async (r) => ({
      nodeGroupAutoscalingOptions: await p.options(str(r.id), r.defaults ?? {}),
    }),
  };
}

/** Wraps a handler: a refusal answers with its status and message, anything else with Internal. */
function unary(name: string, fn: Unary, logger: Logger | undefined): grpc.handleUnaryCall<unknown, unknown> {
  return (call, callback) => {
    Promise.resolve()
      .then(() => fn(call.request as Record<string, unknown>))
      .then(
        (answer) => callback(null, answer),
        (err: unknown) => {
          const refused = err instanceof AutoscalerError;
          const details = err instanceof Error ? err.message : String(err);
          if (refused) logger?.info({ rpc: name, code: err.code }, details);
          else logger?.error({ rpc: name, err }, `externalgrpc ${name} failed`);
          callback({
            code: refused ? err.code : grpc.status.INTERNAL,
            details: refused ? details : `${name}: ${details}`,
          });
        },
      );
  };
}

/**
 * Serves the cluster-autoscaler's externalgrpc CloudProvider service for one provider. With TLS
 * files, clients must present a certificate of the given CA; without, only a loopback address is
 * accepted.
 */
export async function startAutoscalerServer(opts: AutoscalerServerOptions): Promise<AutoscalerServer> {
  const { host, port } = parseAddress(opts.address);
  let credentials: grpc.ServerCredentials;
  if (opts.tls) {
    const [cert, key, ca] = await Promise.all([
      readFile(opts.tls.cert),
      readFile(opts.tls.key),
      readFile(opts.tls.ca),
    ]);
    credentials = grpc.ServerCredentials.createSsl(ca, [{ cert_chain: cert, private_key: key }], true);
  } else if (LOOPBACK.test(host)) {
    credentials = grpc.ServerCredentials.createInsecure();
  } else {
    throw new Error(
      `--autoscaler-grpc-address=${opts.address} is not a loopback address: give --autoscaler-grpc-cert, --autoscaler-grpc-key and --autoscaler-grpc-ca`,
    );
  }
  const server = new grpc.Server();
  const impl = Object.fromEntries(
    Object.entries(handlers(opts.provider)).map(([name, fn]) => [name, unary(name, fn, opts.logger)]),
  );
  server.addService(service, impl);
  const bound = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`${host}:${port}`, credentials, (err, p) => (err ? reject(err) : resolve(p))),
  );
  opts.logger?.info(
    { address: `${host}:${bound}`, tls: Boolean(opts.tls) },
    "externalgrpc cloud provider serving",
  );
  return {
    port: bound,
    stop: () =>
      new Promise<void>((resolve) => {
        const force = setTimeout(() => server.forceShutdown(), 5000);
        server.tryShutdown(() => {
          clearTimeout(force);
          resolve();
        });
      }),
  };
}
