/**
 * The import layering of sprout, checked by dependency-cruiser in `npm run lint`
 * (docs/architecture.md draws it). Test files are exempt from the layer rules, not from cycles.
 */
const notTest = "\\.test\\.ts$";
const sprout = "^(src|plugins)/";

/** A rule: files under `from` import nothing of sprout outside `allowed`. */
function layer(name, from, allowed, comment) {
  return {
    name,
    comment,
    severity: "error",
    from: { path: from, pathNot: notTest },
    to: { path: sprout, pathNot: allowed },
  };
}

export default {
  forbidden: [
    {
      name: "no-cycles",
      comment: "Modules form no import cycle.",
      severity: "error",
      from: {},
      to: { circular: true },
    },
    layer("runtime", "^src/runtime/", "^src/runtime/", "The controller runtime knows nothing of machines."),
    layer("api", "^src/api/", "^src/api/", "The API types and their schema depend on nothing of sprout."),
    layer("driver", "^src/driver/", "^src/(driver|api)/", "The driver contract speaks only of the API."),
    layer(
      "bootstrap",
      "^src/bootstrap/",
      "^src/(bootstrap|api)/",
      "User data is rendered from the API alone.",
    ),
    layer(
      "controllers",
      "^src/controllers/",
      "^src/(controllers|api|runtime|driver|bootstrap)/",
      "Controllers use the API, the runtime, the driver contract and bootstrap; never a plugin or a simulator.",
    ),
    {
      name: "controller-folders",
      comment: "A controller kind's folder does not import another kind's folder.",
      severity: "error",
      from: { path: "^src/controllers/([^/]+)/", pathNot: notTest },
      to: { path: "^src/controllers/([^/]+)/", pathNot: "^src/controllers/$1/" },
    },
    layer(
      "localplane",
      "^src/localplane/",
      "^src/localplane/",
      "The local control plane is a tool of its own.",
    ),
    layer(
      "sim",
      "^src/sim/",
      "^src/(sim|api|bootstrap|runtime|localplane)/",
      "The simulated world (virtual cloud, kubelets) is driven like real infrastructure, never by controllers.",
    ),
    layer(
      "plugins",
      "^plugins/(?!virtual/)([^/]+)/",
      "^(plugins/$1/|src/(api|driver)/)",
      "A plugin imports only the public api and driver modules (and its own SDK).",
    ),
    layer(
      "virtual-plugin",
      "^plugins/virtual/",
      "^(plugins/virtual/|src/(api|driver)/|src/sim/cloud/index\\.ts$)",
      "The virtual plugin's SDK is the virtual cloud's client (sprout/sim/cloud).",
    ),
    {
      name: "no-test-code",
      comment: "Shipped code never imports test code.",
      severity: "error",
      from: { path: sprout, pathNot: notTest },
      to: { path: "^test/" },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    exclude: { path: "node_modules" },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    enhancedResolveOptions: {
      exportsFields: ["exports"],
      conditionNames: ["import", "node", "default"],
      extensions: [".ts", ".js"],
    },
  },
};
