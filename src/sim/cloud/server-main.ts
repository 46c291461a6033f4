/**
 * The virtual cloud as its own process:
 *   node src/sim/cloud/server-main.ts --port 0 --state-file vms.json [--token T]
 *     [--create-latency-ms N] [--delete-latency-ms N] [--failure-rate F] [--half-create-rate F]
 *     [--orphan-dependents-rate F] [--throttle-rate F] [--lost-answer-rate F] [--quota N]
 * Prints {"endpoint": "http://127.0.0.1:<port>"} on stdout once it listens.
 */
import { parseArgs } from "node:util";
import { VirtualCloud } from "./cloud.ts";
import { CloudServer } from "./server.ts";

const { values } = parseArgs({
  options: {
    port: { type: "string", default: "0" },
    host: { type: "string", default: "127.0.0.1" },
    "state-file": { type: "string" },
    token: { type: "string" },
    "create-latency-ms": { type: "string", default: "0" },
    "delete-latency-ms": { type: "string", default: "0" },
    "failure-rate": { type: "string", default: "0" },
    "half-create-rate": { type: "string", default: "0" },
    "orphan-dependents-rate": { type: "string", default: "0" },
    "throttle-rate": { type: "string", default: "0" },
    "lost-answer-rate": { type: "string", default: "0" },
    quota: { type: "string", default: "-1" },
  },
});

const cloud = new VirtualCloud(values["state-file"] ? { stateFile: values["state-file"] } : {});
await cloud.load();
Object.assign(cloud.faults, {
  createLatencyMs: Number(values["create-latency-ms"]),
  deleteLatencyMs: Number(values["delete-latency-ms"]),
  failureRate: Number(values["failure-rate"]),
  halfCreateRate: Number(values["half-create-rate"]),
  orphanDependentsRate: Number(values["orphan-dependents-rate"]),
  throttleRate: Number(values["throttle-rate"]),
  lostAnswerRate: Number(values["lost-answer-rate"]),
  quota: Number(values.quota),
});
const server = new CloudServer(cloud, values.token ? { token: values.token } : {});
const port = await server.listen(Number(values.port), values.host);
process.stdout.write(`${JSON.stringify({ endpoint: `http://${values.host}:${port}` })}\n`);

const stop = (): void => {
  void server
    .close()
    .then(() => cloud.flush())
    .finally(() => process.exit(0));
};
process.once("SIGTERM", stop);
process.once("SIGINT", stop);
