import { AutoscalerProvider } from "../controllers/autoscaler/provider.ts";
import {
  type AutoscalerServer,
  parseAddress,
  startAutoscalerServer,
} from "../controllers/autoscaler/server.ts";
import type { Manager } from "../runtime/manager/manager.ts";
import type { FlagRule, FlagSpec, FlagValues } from "./flags.ts";

/** Flags of the cluster-autoscaler's externalgrpc cloud provider (docs/autoscaler.md). */
export const AUTOSCALER_FLAGS: readonly FlagSpec[] = [
  {
    name: "autoscaler-grpc-address",
    kind: "string",
    default: "",
    help: "serve the cluster-autoscaler's externalgrpc cloud provider at HOST:PORT; off when empty; without certificates only on a loopback address",
  },
  {
    name: "autoscaler-grpc-cert",
    kind: "string",
    default: "",
    help: "serving certificate of the externalgrpc provider (PEM file)",
  },
  {
    name: "autoscaler-grpc-key",
    kind: "string",
    default: "",
    help: "key of --autoscaler-grpc-cert (PEM file)",
  },
  {
    name: "autoscaler-grpc-ca",
    kind: "string",
    default: "",
    help: "CA whose client certificates the externalgrpc provider accepts (PEM file)",
  },
];

const TLS = ["autoscaler-grpc-cert", "autoscaler-grpc-key", "autoscaler-grpc-ca"] as const;

/** Certificates all or none, and a well-formed address. */
export const AUTOSCALER_RULES: readonly FlagRule[] = [
  (v) => {
    const given = TLS.filter((f) => v[f]);
    if (given.length === 0 || given.length === TLS.length) return undefined;
    return `--${TLS.join(", --")} go together; only --${given.join(", --")} given`;
  },
  (v) => {
    const address = v["autoscaler-grpc-address"];
    if (!address) return undefined;
    try {
      parseAddress(address);
      return undefined;
    } catch (err) {
      return err instanceof Error ? err.message : String(err);
    }
  },
];

/** Starts the provider on the manager's control client when --autoscaler-grpc-address is given. */
export async function autoscalerFromFlags(
  v: FlagValues,
  manager: Manager,
  namespace: string,
): Promise<AutoscalerServer | undefined> {
  const address = v["autoscaler-grpc-address"];
  if (!address) return undefined;
  const [cert = "", key = "", ca = ""] = TLS.map((f) => v[f] ?? "");
  return startAutoscalerServer({
    provider: new AutoscalerProvider({ client: manager.client, namespace }),
    address,
    tls: cert ? { cert, key, ca } : undefined,
    logger: manager.logger,
  });
}
