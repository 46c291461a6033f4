import { existsSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { run } from "./tools.ts";

/**
 * Certificates and keys of a local control plane, made with the system's openssl (ECDSA P-256:
 * fast to generate, accepted by every Kubernetes component). Created once per plane folder and kept,
 * so a restarted plane keeps its identity and existing kubeconfigs stay valid.
 */
export interface Pki {
  readonly dir: string;
  readonly caCert: string;
  readonly caKey: string;
  readonly servingCert: string;
  readonly servingKey: string;
  readonly serviceAccountKey: string;
  readonly serviceAccountPub: string;
}

export interface ClientCert {
  readonly cert: string;
  readonly key: string;
}

const DAYS = "3650";

async function openssl(args: readonly string[], cwd: string): Promise<void> {
  await run("openssl", args, { cwd });
}

async function ecKey(path: string, cwd: string): Promise<void> {
  await openssl(["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", path], cwd);
}

/** Signs a new key's certificate with the plane's CA. */
async function signed(pki: Pki, base: string, subject: string, ext: string): Promise<void> {
  const cwd = pki.dir;
  await ecKey(`${base}.key`, cwd);
  await openssl(["req", "-new", "-key", `${base}.key`, "-subj", subject, "-out", `${base}.csr`], cwd);
  await writeFile(join(cwd, `${base}.ext`), ext);
  await openssl(
    [
      ...["x509", "-req", "-in", `${base}.csr`, "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial"],
      ...["-days", DAYS, "-sha256", "-extfile", `${base}.ext`, "-out", `${base}.crt`],
    ],
    cwd,
  );
}

export async function ensurePki(dir: string): Promise<Pki> {
  const pki: Pki = {
    dir,
    caCert: join(dir, "ca.crt"),
    caKey: join(dir, "ca.key"),
    servingCert: join(dir, "apiserver.crt"),
    servingKey: join(dir, "apiserver.key"),
    serviceAccountKey: join(dir, "sa.key"),
    serviceAccountPub: join(dir, "sa.pub"),
  };
  if (existsSync(pki.serviceAccountPub)) return pki;
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await ecKey("ca.key", dir);
  await openssl(
    [
      ...["req", "-x509", "-new", "-key", "ca.key", "-subj", "/CN=sprout-local-ca", "-days", DAYS],
      ...["-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"],
      ...["-out", "ca.crt"],
    ],
    dir,
  );
  await signed(
    pki,
    "apiserver",
    "/CN=kube-apiserver",
    [
      "basicConstraints=CA:FALSE",
      "keyUsage=critical,digitalSignature,keyEncipherment",
      "extendedKeyUsage=serverAuth",
      "subjectAltName=IP:127.0.0.1,IP:10.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc",
    ].join("\n"),
  );
  await ecKey("sa.key", dir);
  await openssl(["ec", "-in", "sa.key", "-pubout", "-out", "sa.pub"], dir);
  return pki;
}

/** A client certificate for user `name` in `groups`, signed by the plane's CA (cached by name). */
export async function clientCert(pki: Pki, name: string, groups: readonly string[]): Promise<ClientCert> {
  const base = `user-${name.replace(/[^A-Za-z0-9_.-]/g, "_")}-${groups.join("_").replace(/[^A-Za-z0-9_.-]/g, "_")}`;
  const cert = join(pki.dir, `${base}.crt`);
  if (!existsSync(cert)) {
    const subject = `${groups.map((g) => `/O=${g}`).join("")}/CN=${name}`;
    await signed(
      pki,
      base,
      subject,
      "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=clientAuth",
    );
  }
  return { cert, key: join(pki.dir, `${base}.key`) };
}

export async function pem(path: string): Promise<string> {
  return readFile(path, "utf8");
}
