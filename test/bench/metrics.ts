/** Prometheus text-format parsing and the counters the scale benchmark reads. */
export type Sample = {
  readonly name: string;
  readonly labels: Record<string, string>;
  readonly value: number;
};

export function parseMetrics(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split("\n")) {
    if (line.startsWith("#") || line.trim() === "") continue;
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? "").matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[l[1] ?? ""] = l[2] ?? "";
    out.push({ name: m[1] ?? "", labels, value: Number(m[3]) });
  }
  return out;
}

/** Sums a counter by one label, over the samples `keep` accepts. */
export function sumBy(
  samples: readonly Sample[],
  name: string,
  label: string,
  keep: (labels: Record<string, string>) => boolean = () => true,
): Record<string, number> {
  const out: Record<string, number> = {};
  for (const s of samples) {
    if (s.name !== name || !keep(s.labels)) continue;
    const key = s.labels[label] ?? "";
    out[key] = (out[key] ?? 0) + s.value;
  }
  return out;
}

/** after − before, per key, divided by `per` (rounded to 2 decimals); entries that round to 0 dropped. */
export function delta(
  before: Record<string, number>,
  after: Record<string, number>,
  per = 1,
): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(after)) {
    const d = Math.round(((v - (before[k] ?? 0)) / per) * 100) / 100;
    if (d > 0) out[k] = d;
  }
  return out;
}
