const UNIT_MS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  μs: 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

/** Parses a Go duration string ("20m", "1h30m", "90s", "1.5h", "0") into milliseconds. */
export function parseDuration(text: string): number {
  const trimmed = text.trim();
  const sign = trimmed.startsWith("-") ? -1 : 1;
  const body = trimmed.replace(/^[-+]/, "");
  if (body === "0") return 0;
  const re = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/gy;
  let total = 0;
  let consumed = 0;
  for (const match of body.matchAll(re)) {
    total += Number(match[1]) * (UNIT_MS[match[2] ?? ""] ?? Number.NaN);
    consumed += match[0].length;
  }
  if (consumed !== body.length || body.length === 0) throw new Error(`invalid duration "${text}"`);
  return sign * total;
}

/** Formats milliseconds the way Go prints a duration: 1h2m3s, 20m0s, 1.5s, 0s. */
export function formatDuration(ms: number): string {
  if (ms === 0) return "0s";
  const neg = ms < 0 ? "-" : "";
  let rest = Math.abs(ms);
  const h = Math.floor(rest / 3_600_000);
  rest -= h * 3_600_000;
  const m = Math.floor(rest / 60_000);
  rest -= m * 60_000;
  const s = Number((rest / 1000).toFixed(3));
  if (h > 0) return `${neg}${h}h${m}m${s}s`;
  if (m > 0) return `${neg}${m}m${s}s`;
  return `${neg}${s}s`;
}
