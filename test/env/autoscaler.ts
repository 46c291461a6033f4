import { join } from "node:path";
import * as grpc from "@grpc/grpc-js";
import { loadSync } from "@grpc/proto-loader";
import protobuf from "protobufjs";
import { PROTO_PATH } from "../../src/controllers/autoscaler/server.ts";
import { goModuleDir } from "../../src/localplane/tools.ts";

const SERVICE = "clusterautoscaler.cloudprovider.v1.externalgrpc.CloudProvider";

/** A cluster-autoscaler's side of the externalgrpc connection: every RPC as a promise. */
export interface CloudProviderClient {
  call<T = Record<string, unknown>>(rpc: string, request?: Record<string, unknown>): Promise<T>;
  /** The gRPC status code and message of a call that must fail. */
  refusal(rpc: string, request?: Record<string, unknown>): Promise<{ code: number; details: string }>;
  close(): void;
}

/** Connects to HOST:PORT, plain or with a client certificate. */
export function cloudProviderClient(
  address: string,
  tls?: { ca: Buffer; cert: Buffer; key: Buffer },
): CloudProviderClient {
  const def = loadSync(PROTO_PATH, { keepCase: true, longs: String, enums: Number, defaults: true });
  const Ctor = grpc.makeGenericClientConstructor(def[SERVICE] as grpc.ServiceDefinition, "CloudProvider");
  const creds = tls
    ? grpc.credentials.createSsl(tls.ca, tls.key, tls.cert)
    : grpc.credentials.createInsecure();
  const client = new Ctor(address, creds);
  const call = <T>(rpc: string, request: Record<string, unknown> = {}): Promise<T> =>
    new Promise((resolve, reject) => {
      const method = (client as unknown as Record<string, grpc.requestCallback<T> | undefined>)[rpc];
      if (typeof method !== "function") throw new Error(`no RPC ${rpc}`);
      const deadline = new Date(Date.now() + 10_000);
      (method as unknown as (...args: unknown[]) => void).call(
        client,
        request,
        { deadline },
        (err: grpc.ServiceError | null, answer: T) => (err ? reject(err) : resolve(answer)),
      );
    });
  return {
    call,
    async refusal(rpc, request = {}) {
      try {
        await call(rpc, request);
      } catch (err) {
        const e = err as grpc.ServiceError;
        return { code: e.code, details: e.details };
      }
      throw new Error(`${rpc} succeeded, expected a refusal`);
    },
    close: () => client.close(),
  };
}

/** core/v1 Node from Kubernetes' own generated.proto files (k8s.io/api and apimachinery, Go module cache). */
export async function officialNodeType(): Promise<protobuf.Type> {
  const [api, machinery] = await Promise.all([
    goModuleDir("kube", "k8s.io/api"),
    goModuleDir("kube", "k8s.io/apimachinery"),
  ]);
  const root = new protobuf.Root();
  root.resolvePath = (_origin, target) => {
    if (target.startsWith("k8s.io/apimachinery/"))
      return join(machinery, target.slice("k8s.io/apimachinery/".length));
    if (target.startsWith("k8s.io/api/")) return join(api, target.slice("k8s.io/api/".length));
    return target;
  };
  await root.load("k8s.io/api/core/v1/generated.proto", { keepCase: true });
  return root.lookupType("k8s.io.api.core.v1.Node");
}
