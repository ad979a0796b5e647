// A throwaway PostgreSQL 15 cluster with TLS for the upstream-TLS tests (the machine's server
// on 5432 has ssl off): a CA, a server certificate for localhost and 127.0.0.1, a client
// certificate and an unrelated second CA, all made with the openssl CLI; ssl = on; pg_hba
// allows TCP only over TLS (hostssl). It listens on 127.0.0.1 and 127.0.0.2, so a name the
// certificate does not hold is one connect away. As root (CI) initdb and postgres run as the
// `postgres` user through runuser, since PostgreSQL refuses to run as root.

import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { chmod, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import pg from "pg";
import { freePort } from "../../bench/pgbouncer.js";

const run = promisify(execFile);
const PG_BIN = "/usr/lib/postgresql/15/bin";

export const TLS_CLUSTER_ROLES = {
  /** password login (SCRAM-SHA-256), over TLS only */
  scram: { user: "tls_scram", password: "tls-scram-secret" },
  /** client certificate login (`cert`): the certificate's CN is the role */
  cert: { user: "tls_cert" },
} as const;

export interface TlsCluster {
  port: number;
  database: string;
  /** PEM files in the cluster's temp directory */
  files: { ca: string; otherCa: string; clientCert: string; clientKey: string };
  /** a superuser connection over the Unix socket */
  admin(database?: string): Promise<pg.Client>;
  stop(): Promise<void>;
}

export async function startTlsCluster(): Promise<TlsCluster> {
  const missing = [`${PG_BIN}/initdb`, `${PG_BIN}/pg_ctl`].filter((f) => !existsSync(f));
  if (missing.length > 0) throw new Error(`the upstream TLS tests start their own PostgreSQL 15 and need ${missing.join(", ")} (Debian package postgresql-15)`);
  await run("openssl", ["version"]).catch((err: unknown) => {
    throw new Error(`the upstream TLS tests make their certificates with the openssl CLI, which did not run: ${String(err)}`);
  });
  const asRoot = process.getuid?.() === 0;
  const owner = asRoot ? await postgresUser() : undefined;
  const dir = await mkdtemp(join(tmpdir(), "hoopgate-pg-tls-"));
  const data = join(dir, "data");
  const as = (file: string, args: string[]) => (asRoot ? run("runuser", ["-u", "postgres", "--", file, ...args]) : run(file, args));
  let started = false;
  const stop = async (): Promise<void> => {
    if (started) await as(`${PG_BIN}/pg_ctl`, ["-D", data, "-m", "immediate", "-w", "stop"]).catch(() => undefined);
    started = false;
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const files = await makeCertificates(dir);
    if (owner !== undefined) await chownTree(dir, owner);
    await as(`${PG_BIN}/initdb`, ["-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"]).catch((err: unknown) => {
      throw new Error(`initdb failed${asRoot ? " (run as postgres through runuser)" : ""}: ${describe(err)}`);
    });
    const port = await freePort();
    await writeFile(join(data, "postgresql.auto.conf"), [
      `port = ${port}`,
      "listen_addresses = '127.0.0.1,127.0.0.2'",
      `unix_socket_directories = '${dir}'`,
      "ssl = on",
      `ssl_cert_file = '${join(dir, "server.crt")}'`,
      `ssl_key_file = '${join(dir, "server.key")}'`,
      `ssl_ca_file = '${files.ca}'`,
      "fsync = off",
      "shared_buffers = 16MB",
      "max_connections = 30",
      "",
    ].join("\n"));
    await writeFile(join(data, "pg_hba.conf"), [
      "local all all trust",
      `hostssl all ${TLS_CLUSTER_ROLES.cert.user} 127.0.0.0/8 cert`,
      "hostssl all all 127.0.0.0/8 scram-sha-256",
      "",
    ].join("\n"));
    if (owner !== undefined) await chownTree(data, owner);
    await as(`${PG_BIN}/pg_ctl`, ["-D", data, "-l", join(dir, "server.log"), "-w", "-t", "60", "start"]).catch(async (err: unknown) => {
      const log = await readFile(join(dir, "server.log"), "utf8").catch(() => "");
      throw new Error(`the TLS test cluster did not start: ${describe(err)}\n${log}`);
    });
    started = true;
    const cluster: TlsCluster = {
      port,
      database: "tls_test",
      files,
      async admin(database = "postgres") {
        const client = new pg.Client({ host: dir, port, user: "postgres", database });
        await client.connect();
        return client;
      },
      stop,
    };
    const admin = await cluster.admin();
    try {
      await admin.query("set password_encryption = 'scram-sha-256'");
      await admin.query(`create role ${TLS_CLUSTER_ROLES.scram.user} login password '${TLS_CLUSTER_ROLES.scram.password}'`);
      await admin.query(`create role ${TLS_CLUSTER_ROLES.cert.user} login`);
      await admin.query(`create database ${cluster.database}`);
      await admin.query(`grant all on database ${cluster.database} to ${TLS_CLUSTER_ROLES.scram.user}, ${TLS_CLUSTER_ROLES.cert.user}`);
    } finally {
      await admin.end();
    }
    return cluster;
  } catch (err) {
    await stop();
    throw err;
  }
}

async function makeCertificates(dir: string): Promise<TlsCluster["files"]> {
  const at = (name: string): string => join(dir, name);
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];
  const ca = async (name: string, cn: string): Promise<void> => {
    await run("openssl", ["req", "-x509", ...ec, "-keyout", at(`${name}.key`), "-out", at(`${name}.crt`), "-days", "2", "-subj", `/CN=${cn}`,
      "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"]);
  };
  const leaf = async (name: string, cn: string, extensions: string): Promise<void> => {
    await writeFile(at(`${name}.ext`), extensions);
    await run("openssl", ["req", "-new", ...ec, "-keyout", at(`${name}.key`), "-out", at(`${name}.csr`), "-subj", `/CN=${cn}`]);
    await run("openssl", ["x509", "-req", "-in", at(`${name}.csr`), "-CA", at("ca.crt"), "-CAkey", at("ca.key"), "-CAcreateserial",
      "-out", at(`${name}.crt`), "-days", "2", "-extfile", at(`${name}.ext`)]);
  };
  await ca("ca", "hoopgate test CA");
  await ca("other-ca", "some other CA");
  await leaf("server", "localhost", "subjectAltName = DNS:localhost, IP:127.0.0.1\nextendedKeyUsage = serverAuth\n");
  await leaf("client", TLS_CLUSTER_ROLES.cert.user, "extendedKeyUsage = clientAuth\n");
  // PostgreSQL refuses a server key that others may read
  await chmod(at("server.key"), 0o600);
  return { ca: at("ca.crt"), otherCa: at("other-ca.crt"), clientCert: at("client.crt"), clientKey: at("client.key") };
}

async function postgresUser(): Promise<{ uid: number; gid: number }> {
  try {
    const [uid, gid] = await Promise.all([run("id", ["-u", "postgres"]), run("id", ["-g", "postgres"])]);
    return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
  } catch {
    throw new Error("running as root, the upstream TLS tests start PostgreSQL as the postgres user, and there is none");
  }
}

async function chownTree(path: string, owner: { uid: number; gid: number }): Promise<void> {
  await run("chown", ["-R", `${owner.uid}:${owner.gid}`, path]);
}

function describe(err: unknown): string {
  const e = err as { message?: string; stderr?: string };
  return [e.message, e.stderr].filter(Boolean).join("\n");
}
