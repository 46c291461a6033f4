import { mkdtemp, rm } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe } from "vitest";
import { cacheDir } from "../../src/localplane/cache.ts";
import { LOCALSTACK_VERSION, LocalStackServer } from "../env/localstack.ts";
import { stderrProgress } from "../../src/localplane/progress.ts";
import { awsBehaviour } from "./aws-behaviour.ts";
import { type AwsConformance, awsConformance } from "./aws-target.ts";
import { driverConformance } from "./suite.ts";

// Run by `npm run test:localstack`: the same suite as against moto, against LocalStack in host mode.
let dir: string | undefined;
let localstack: LocalStackServer | undefined;
let aws: AwsConformance | undefined;

beforeAll(async () => {
  dir = await mkdtemp(join(cacheDir(), "localstack-"));
  localstack = await LocalStackServer.start(dir, { progress: stderrProgress });
  // LocalStack's community runtime does not enforce IAM: auth failures are injected by the proxy.
  aws = await awsConformance({ label: `LocalStack ${LOCALSTACK_VERSION}`, endpoint: localstack.endpoint });
});

afterAll(async () => {
  await aws?.close();
  await localstack?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const ready = (): AwsConformance => {
  if (!aws) throw new Error("LocalStack did not start");
  return aws;
};

describe(`aws plugin on LocalStack ${LOCALSTACK_VERSION}`, () => {
  driverConformance(() => ready().target);
  awsBehaviour(ready);
});
