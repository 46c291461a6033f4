import { randomBytes, randomUUID } from "node:crypto";

/**
 * Microsoft Entra ID's client-credentials flow as the Azure SDKs' credentials use it: the tenant's
 * OpenID metadata, instance discovery, and the v2.0 token endpoint taking a client secret or a
 * federated token (workload identity). Tokens it issues are what the ARM routes accept.
 */
export interface EntraClient {
  readonly tenantId: string;
  readonly clientId: string;
  /** The client secret; unset for a client that signs in with a federated token only. */
  readonly secret?: string;
  /** The federated token (the projected service-account token of workload identity) it accepts. */
  readonly federatedToken?: string;
  /** false: its tokens are refused by ARM with 403 AuthorizationFailed. */
  readonly rights: boolean;
}

export interface Caller {
  readonly clientId: string;
  readonly rights: boolean;
}

interface Out {
  readonly status: number;
  readonly body: unknown;
}

export class Entra {
  readonly #base: string;
  readonly #clients = new Map<string, EntraClient>();
  readonly #tokens = new Map<string, Caller>();
  /** Tokens issued so far. */
  issued = 0;

  constructor(base: string) {
    this.#base = base;
  }

  register(client: EntraClient): void {
    this.#clients.set(client.clientId, client);
  }

  /** The caller of a request with this Authorization header, if the token is one this issued. */
  caller(authorization: string | undefined): Caller | undefined {
    const m = /^Bearer (\S+)$/.exec(authorization ?? "");
    return m ? this.#tokens.get(m[1] ?? "") : undefined;
  }

  handle(method: string, url: URL, raw: string): Out {
    const path = url.pathname;
    const tenant = path.split("/")[1] ?? "";
    if (method === "GET" && path.endsWith("/discovery/instance")) {
      const host = url.host;
      return {
        status: 200,
        body: {
          tenant_discovery_endpoint: `${this.#base}/${tenant}/v2.0/.well-known/openid-configuration`,
          "api-version": "1.1",
          metadata: [{ preferred_network: host, preferred_cache: host, aliases: [host] }],
        },
      };
    }
    if (method === "GET" && path.endsWith("/v2.0/.well-known/openid-configuration")) {
      const t = `${this.#base}/${tenant}`;
      return {
        status: 200,
        body: {
          token_endpoint: `${t}/oauth2/v2.0/token`,
          authorization_endpoint: `${t}/oauth2/v2.0/authorize`,
          end_session_endpoint: `${t}/oauth2/v2.0/logout`,
          device_authorization_endpoint: `${t}/oauth2/v2.0/devicecode`,
          jwks_uri: `${t}/discovery/v2.0/keys`,
          issuer: `${t}/v2.0`,
          response_types_supported: ["code", "id_token", "code id_token", "id_token token"],
          subject_types_supported: ["pairwise"],
          id_token_signing_alg_values_supported: ["RS256"],
          token_endpoint_auth_methods_supported: [
            "client_secret_post",
            "private_key_jwt",
            "client_secret_basic",
          ],
          scopes_supported: ["openid", "profile", "email", "offline_access"],
          tenant_region_scope: "EU",
          cloud_instance_name: "sprout.local",
          cloud_graph_host_name: "graph.sprout.local",
          msgraph_host: "graph.sprout.local",
        },
      };
    }
    if (method === "POST" && path.endsWith("/oauth2/v2.0/token")) return this.#token(tenant, raw);
    return { status: 404, body: { error: "not_found", error_description: `no route ${method} ${path}` } };
  }

  #token(tenant: string, raw: string): Out {
    const form = new URLSearchParams(raw);
    const client = this.#clients.get(form.get("client_id") ?? "");
    const fail = (status: number, error: string, code: number, text: string): Out => ({
      status,
      body: {
        error,
        error_description: `AADSTS${code}: ${text}`,
        error_codes: [code],
        timestamp: new Date().toISOString(),
        trace_id: randomUUID(),
        correlation_id: randomUUID(),
      },
    });
    if (form.get("grant_type") !== "client_credentials") {
      return fail(400, "unsupported_grant_type", 70003, "The app requested an unsupported grant type.");
    }
    if (!client) {
      return fail(400, "unauthorized_client", 700016, "Application was not found in the directory.");
    }
    if (client.tenantId !== tenant) {
      return fail(400, "invalid_request", 90002, `Tenant '${tenant}' not found.`);
    }
    const secret = form.get("client_secret");
    const assertion = form.get("client_assertion");
    const ok =
      (secret !== null && client.secret !== undefined && secret === client.secret) ||
      (assertion !== null && client.federatedToken !== undefined && assertion === client.federatedToken);
    if (!ok) {
      return secret !== null
        ? fail(401, "invalid_client", 7000215, "Invalid client secret provided.")
        : fail(
            400,
            "invalid_client",
            700213,
            "No matching federated identity record found for presented assertion.",
          );
    }
    const token = randomBytes(24).toString("base64url");
    this.#tokens.set(token, { clientId: client.clientId, rights: client.rights });
    this.issued++;
    return {
      status: 200,
      body: { token_type: "Bearer", expires_in: 3599, ext_expires_in: 3599, access_token: token },
    };
  }
}
