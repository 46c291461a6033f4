import type { Machine } from "../api/v1alpha1/machine.ts";
import type { MachineDeployment } from "../api/v1alpha1/machinedeployment.ts";
import type { Informer } from "../runtime/cache/informer.ts";
import type { KubeObject } from "../runtime/client/client.ts";

type Cached<T> = Informer<T & KubeObject>;

const age = (created: string | undefined, now: number): string => {
  const s = Math.max(0, Math.round((now - (Date.parse(created ?? "") || now)) / 1000));
  return s < 120 ? `${String(s)}s` : `${String(Math.floor(s / 60))}m`;
};

const phaseOf = (m: Machine): string =>
  m.metadata?.deletionTimestamp ? "Terminating" : m.status?.currentStatus?.phase || "Creating";

function deploymentRow(d: MachineDeployment): string {
  const s = d.status ?? {};
  const cols = [d.spec?.replicas ?? 0, s.replicas ?? 0, s.readyReplicas ?? 0, s.availableReplicas ?? 0];
  return `${(d.metadata?.name ?? "").padEnd(24)} ${cols.map((c) => String(c).padEnd(8)).join(" ")}`;
}

function machineRow(m: Machine, now: number): string {
  const meta = m.metadata ?? {};
  const node = meta.labels?.node ?? "";
  return [
    (meta.name ?? "").padEnd(30),
    phaseOf(m).padEnd(17),
    node.padEnd(30),
    age(meta.creationTimestamp, now),
  ].join(" ");
}

/** The table the live view shows: deployments, then machines with phase, node and age. */
export function renderView(
  deployments: readonly MachineDeployment[],
  machines: readonly Machine[],
  now: number,
): string[] {
  const byName = (a: Machine, b: Machine): number =>
    (a.metadata?.name ?? "").localeCompare(b.metadata?.name ?? "");
  return [
    "MACHINEDEPLOYMENT        DESIRED  CURRENT  READY    AVAILABLE",
    ...deployments.map(deploymentRow),
    "",
    "MACHINE                        PHASE             NODE                           AGE",
    ...[...machines].sort(byName).map((m) => machineRow(m, now)),
  ];
}

/** One line of counts by phase, for a log that is not a terminal. */
export function summaryLine(machines: readonly Machine[]): string {
  const counts = new Map<string, number>();
  for (const m of machines) {
    const phase = m.metadata?.deletionTimestamp
      ? "Terminating"
      : m.status?.currentStatus?.phase || "Creating";
    counts.set(phase, (counts.get(phase) ?? 0) + 1);
  }
  const parts = [...counts.entries()].sort().map(([p, n]) => `${p} ${String(n)}`);
  return `machines: ${String(machines.length)}${parts.length > 0 ? ` (${parts.join(", ")})` : ""}`;
}

/**
 * Shows machines as they change: on a terminal, a table redrawn every second under a fixed header;
 * otherwise one summary line whenever the counts change. Returns a stop function.
 */
export function startLiveView(
  header: readonly string[],
  deployments: Cached<MachineDeployment>,
  machines: Cached<Machine>,
  out: NodeJS.WriteStream = process.stdout,
): () => void {
  let last = "";
  const draw = (): void => {
    const ms = machines.store.list();
    if (out.isTTY) {
      const body = renderView(deployments.store.list(), ms, Date.now());
      out.write(`\x1b[H\x1b[2J${[...header, ...body].join("\n")}\n`);
      return;
    }
    const line = summaryLine(ms);
    if (line !== last) out.write(`[sprout] ${line}\n`);
    last = line;
  };
  if (!out.isTTY) out.write(`${header.join("\n")}\n`);
  draw();
  const timer = setInterval(draw, 1000);
  return () => {
    clearInterval(timer);
  };
}
