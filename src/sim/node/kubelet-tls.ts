import { generateKeyPairSync } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { KubeConfig } from "@kubernetes/client-node";
import type { NodeCredentials, TlsBootstrapInput } from "./types.ts";
import { KubeClient, type KubeObject } from "../../runtime/client/client.ts";
import type { ResourceRef } from "../../runtime/client/resources.ts";
import { run } from "../../localplane/tools.ts";

/**
 * A kubelet's TLS bootstrap (k8s.io/kubelet certificate bootstrap) against a real apiserver: with
 * the bootstrap token, create a CertificateSigningRequest for system:node:<name> with the signer
 * kubernetes.io/kube-apiserver-client-kubelet, wait until kube-controller-manager approved and
 * signed it, and return the node's client certificate and key.
 */

const CSRS: ResourceRef = {
  group: "certificates.k8s.io",
  version: "v1",
  plural: "certificatesigningrequests",
  kind: "CertificateSigningRequest",
  namespaced: false,
};
const KUBELET_SIGNER = "kubernetes.io/kube-apiserver-client-kubelet";

type Csr = KubeObject & {
  status?: { certificate?: string; conditions?: { type: string; reason?: string; message?: string }[] };
};

/** A client config for a server and CA with one credential (token, or client certificate). */
export function kubeConfigFor(
  server: string,
  caPem: string,
  credential: { token: string } | { certPem: string; keyPem: string },
): KubeConfig {
  const b64 = (s: string): string => Buffer.from(s).toString("base64");
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: "c", server, caData: b64(caPem) }],
    users: [
      "token" in credential
        ? { name: "u", token: credential.token }
        : { name: "u", certData: b64(credential.certPem), keyData: b64(credential.keyPem) },
    ],
    contexts: [{ name: "x", cluster: "c", user: "u" }],
    currentContext: "x",
  });
  return kc;
}

/** A new ECDSA P-256 key and a PKCS#10 request for the node's client certificate (system's openssl). */
async function nodeKeyAndRequest(nodeName: string): Promise<{ keyPem: string; csrPem: string }> {
  const { privateKey } = generateKeyPairSync("ec", { namedCurve: "prime256v1" });
  const keyPem = privateKey.export({ type: "sec1", format: "pem" }).toString();
  const dir = await mkdtemp(join(tmpdir(), "sprout-kubelet-"));
  try {
    await writeFile(join(dir, "node.key"), keyPem, { mode: 0o600 });
    const subject = `/O=system:nodes/CN=system:node:${nodeName}`;
    const csrPem = await run("openssl", ["req", "-new", "-key", "node.key", "-subj", subject], { cwd: dir });
    return { keyPem, csrPem };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * Runs the TLS bootstrap of one node. `fallback` is the cluster to use when the bootstrap
 * kubeconfig names no server or CA. Rejects with the apiserver's answer (401 for a refused token).
 */
export async function kubeletTlsBootstrap(
  nodeName: string,
  input: TlsBootstrapInput,
  fallback: { server: string; caPem: string },
  signal?: AbortSignal,
): Promise<NodeCredentials> {
  const server = input.server ?? fallback.server;
  const caPem = input.caPem ?? fallback.caPem;
  const client = new KubeClient(kubeConfigFor(server, caPem, { token: input.token }));
  const { keyPem, csrPem } = await nodeKeyAndRequest(nodeName);
  const created = await client.create<Csr>(CSRS, {
    apiVersion: "certificates.k8s.io/v1",
    kind: "CertificateSigningRequest",
    metadata: { generateName: "node-csr-" },
    spec: {
      request: Buffer.from(csrPem).toString("base64"),
      signerName: KUBELET_SIGNER,
      usages: ["digital signature", "client auth"],
    },
  });
  const name = created.metadata?.name ?? "";
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline && !signal?.aborted) {
    const csr = await client.get<Csr>(CSRS, undefined, name);
    const refused = csr.status?.conditions?.find((c) => c.type === "Denied" || c.type === "Failed");
    if (refused)
      throw new Error(
        `certificate request ${name} ${refused.type}: ${refused.message ?? refused.reason ?? ""}`,
      );
    if (csr.status?.certificate) {
      return { server, caPem, certPem: Buffer.from(csr.status.certificate, "base64").toString(), keyPem };
    }
    await sleep(200);
  }
  throw new Error(`certificate request ${name} was not issued within 60 s`);
}
