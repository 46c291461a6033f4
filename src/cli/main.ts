import { runLocalPlane } from "./localplane.ts";
import { runStart } from "./start.ts";
import { runMachineController } from "./machine-controller.ts";
import { runMachineControllerManager } from "./machine-controller-manager.ts";
import { runTools } from "./tools.ts";
import { runUserData } from "./user-data.ts";
import { writeGenerated } from "./generate.ts";
import { repoRoot } from "../localplane/cache.ts";

const usage = `usage: sprout <command> [flags]

commands:
  start        run every controller; with no --control-kubeconfig, on the embedded default: a
               local seed, the virtual cloud, the node simulator and a sample MachineDeployment
               (flags: docs/contracts/flags.md)
  localplane   run only a local seed control plane (etcd, kube-apiserver, kube-controller-manager)
               until interrupted; prints the kubeconfig to use with kubectl
  machine-controller
               run the machine controller, as MCM's provider sidecar (flags: docs/contracts/flags.md)
  machine-controller-manager
               run the MachineSet and MachineDeployment controllers, as MCM's process of that name
  user-data    print the user data a machine gets, from a worker pool or a MachineClass
               (see sprout user-data --help and docs/bootstrap.md)
  generate     regenerate crds/, docs/reference/api.md and docs/contracts/flags.md
  tools        build or locate the binaries sprout runs (see docs/development.md)
  help         this text
`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case "start":
      // Everything is stopped by now; idle keep-alive sockets must not hold the process open.
      return runStart(rest).then((code) => process.exit(code));
    case "localplane":
      return runLocalPlane(rest);
    case "tools":
      return runTools();
    case "machine-controller":
      return runMachineController(rest);
    case "machine-controller-manager":
      return runMachineControllerManager(rest);
    case "user-data":
      return runUserData(rest);
    case "generate": {
      const changed = await writeGenerated(repoRoot);
      process.stderr.write(
        changed.length > 0 ? `updated ${changed.join(", ")}\n` : "generated files are current\n",
      );
      return 0;
    }
    case undefined:
    case "help":
    case "--help":
    case "-h":
      process.stdout.write(usage);
      return 0;
    default:
      process.stderr.write(`sprout: unknown command "${command}"\n\n${usage}`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`sprout: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
