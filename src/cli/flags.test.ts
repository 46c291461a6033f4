import { describe, expect, it } from "vitest";
import { flagsTable, parseFlags } from "./flags.ts";
import { MACHINE_CONTROLLER_FLAGS, MACHINE_CONTROLLER_RULES } from "./machine-controller.ts";
import { logLevelOf } from "./mcm-flags.ts";
import { START_FLAGS } from "./start.ts";

const mc = (...args: string[]) => parseFlags(MACHINE_CONTROLLER_FLAGS, args, MACHINE_CONTROLLER_RULES);

describe("flags", () => {
  it("parses pflag's forms: --a=b, --a b, bare bools, Go bools, -v shorthand, _ for -", () => {
    const { values } = mc(
      "--namespace",
      "shoot--p--s",
      "--leader-elect",
      "--log_flush_frequency=1s",
      "-v",
      "4",
      "--logtostderr=T",
      "--port=0",
      "--port=10259",
    );
    expect(values.namespace).toBe("shoot--p--s");
    expect(values["leader-elect"]).toBe("true");
    expect(values["log-flush-frequency"]).toBe("1s");
    expect(values.v).toBe("4");
    expect(values.logtostderr).toBe("true");
    expect(values.port).toBe("10259");
    expect(mc("-v=3").values.v).toBe("3");
    expect(mc("-v5").values.v).toBe("5");
    expect(mc("--leader-elect=0").values["leader-elect"]).toBe("false");
  });

  it("gives the defaults when nothing is given", () => {
    const { values, warnings } = mc();
    expect(values["kube-api-qps"]).toBe("20");
    expect(values["machine-creation-timeout"]).toBe("20m");
    expect(warnings).toEqual([]);
  });

  it.each([
    [["--kube-api-qps=0"], "--kube-api-qps=0: must be greater than 0"],
    [["--kube-api-qps=-5"], "--kube-api-qps=-5: must be greater than 0"],
    [["--kube-api-qps=fast"], "--kube-api-qps=fast: must be a number"],
    [["--kube-api-qps=50"], "--kube-api-burst=30 must be at least --kube-api-qps=50"],
    [["--port=-1"], "--port=-1: must be between 0 and 65535"],
    [["--port=65536"], "--port=65536: must be between 0 and 65535"],
    [["--concurrent-syncs=0"], "--concurrent-syncs=0: must be at least 1"],
    [["--machine-health-timeout=-1s"], "--machine-health-timeout=-1s: must be at least 0s"],
    [["--machine-drain-timeout=2"], "--machine-drain-timeout=2: must be a duration"],
    [["--machine-pv-detach-timeout=-1m"], "--machine-pv-detach-timeout=-1m: must be at least 0s"],
    [["--machine-max-evict-retries=-1"], "--machine-max-evict-retries=-1: must be at least 0"],
    [["--leader-elect-retry-period=0s"], "--leader-elect-retry-period=0s: must be greater than 0s"],
    [
      ["--leader-elect-retry-period=9s"],
      "--leader-elect-renew-deadline=10s must be longer than 1.2 × --leader-elect-retry-period=9s",
    ],
    [["--leader-elect=maybe"], "--leader-elect=maybe: must be true or false"],
    [["--address=example.com"], "--address=example.com: must be an IP address"],
    [["--v=-1"], "--v=-1: must be between 0 and 2147483647"],
    [["--contention-profiling"], "--contention-profiling needs --profiling"],
    [["--kube-api-content-type=protobuf"], "--kube-api-content-type=protobuf: must be a media type"],
    [
      ["--machine-safety-apiserver-statuscheck-period=10s"],
      "--machine-safety-apiserver-statuscheck-period=10s must not be shorter than --machine-safety-apiserver-statuscheck-timeout=30s",
    ],
    [["--no-such-flag=1"], "unknown flag: --no-such-flag"],
    [["-x"], "unknown shorthand flag: -x"],
    [["--namespace"], "flag needs an argument: --namespace"],
    [["stray"], 'unexpected argument "stray"'],
  ])("refuses %j with a message naming the flag", (args, message) => {
    expect(() => mc(...args)).toThrow(message);
  });

  it("warns once per given flag that sprout does not act on, naming it", () => {
    const { warnings } = mc("--min-resync-period=1h", "--vmodule=x=2", "--v=3", "--port=1");
    expect(warnings).toHaveLength(2);
    expect(warnings[0]).toMatch(/^flag --min-resync-period=1h is accepted but has no effect/);
    expect(warnings[1]).toMatch(/^flag --vmodule=x=2 /);
  });

  it("accepts MCM's MachineSet/MachineDeployment flags on start, not on machine-controller", () => {
    expect(parseFlags(START_FLAGS, ["--safety-up=2"]).warnings).toEqual([]);
    expect(() => mc("--safety-up=2")).toThrow("unknown flag: --safety-up");
  });

  it("sprout start takes both of Gardener's command lines as they are", () => {
    const ns = "--namespace=shoot--p--s";
    const kubeconfig =
      "--target-kubeconfig=/var/run/secrets/gardener.cloud/shoot/generic-kubeconfig/kubeconfig";
    const mcmLine = `--control-kubeconfig=inClusterConfig --machine-safety-overshooting-period=1m ${ns} --port=10258 --safety-up=2 --safety-down=1 ${kubeconfig} --concurrent-syncs=30 --kube-api-qps=150 --kube-api-burst=200 --v=3`;
    const sidecar = `--control-kubeconfig=inClusterConfig --kube-api-qps=100 --kube-api-burst=200 --machine-creation-timeout=20m --machine-drain-timeout=2h --machine-health-timeout=10m --machine-safety-apiserver-statuscheck-timeout=30s --machine-safety-apiserver-statuscheck-period=1m --machine-safety-orphan-vms-period=30m ${ns} --port=10259 ${kubeconfig} --v=3`;
    // The overshooting safety flags are acted on.
    expect(parseFlags(START_FLAGS, mcmLine.split(" ")).warnings).toEqual([]);
    // The orphan VM period and the apiserver status check are acted on.
    expect(parseFlags(START_FLAGS, sidecar.split(" ")).warnings).toEqual([]);
  });

  it.each([
    [[], "info"],
    [["--v=2"], "info"],
    [["--v=3"], "debug"],
    [["--v=4"], "debug"],
    [["--v=6"], "trace"],
    [["--v=6", "--log-level=warn"], "warn"],
  ])("maps %j to log level %s", (args, level) => {
    expect(logLevelOf(mc(...args).values)).toBe(level);
  });

  it("documents every flag with its range", () => {
    const table = flagsTable(MACHINE_CONTROLLER_FLAGS);
    expect(table).toContain("| `--port` | int | `10259` | between 0 and 65535 |");
    expect(table).toContain("| `--v`, `-v` |");
    expect(table).toContain("**accepted, no effect:**");
  });
});
