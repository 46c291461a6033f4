/** A small SVG line chart (no plotting dependency: one polyline and a few labels). */
export interface Series {
  readonly points: readonly (readonly [number, number])[];
  /** Vertical markers: [x, label]. */
  readonly markers: readonly (readonly [number, string])[];
  readonly title: string;
  readonly xLabel: string;
  readonly yLabel: string;
}

const W = 800;
const H = 360;
const PAD = { left: 60, right: 20, top: 40, bottom: 50 };

export function lineChart(s: Series): string {
  const maxX = Math.max(1, ...s.points.map(([x]) => x));
  const maxY = Math.max(1, ...s.points.map(([, y]) => y));
  const px = (x: number): number => PAD.left + (x / maxX) * (W - PAD.left - PAD.right);
  const py = (y: number): number => H - PAD.bottom - (y / maxY) * (H - PAD.top - PAD.bottom);
  const path = s.points.map(([x, y]) => `${px(x).toFixed(1)},${py(y).toFixed(1)}`).join(" ");
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((f) => {
    const y = Math.round(maxY * f);
    return `<text x="${PAD.left - 8}" y="${py(y) + 4}" text-anchor="end">${y}</text><line x1="${PAD.left}" x2="${W - PAD.right}" y1="${py(y)}" y2="${py(y)}" stroke="#eee"/>`;
  });
  const xticks = [0, 0.25, 0.5, 0.75, 1].map((f) => {
    const x = maxX * f;
    return `<text x="${px(x)}" y="${H - PAD.bottom + 18}" text-anchor="middle">${x.toFixed(0)}</text>`;
  });
  const markers = s.markers.map(
    ([x, label]) =>
      `<line x1="${px(x)}" x2="${px(x)}" y1="${PAD.top}" y2="${H - PAD.bottom}" stroke="#999" stroke-dasharray="4 3"/><text x="${px(x) + 4}" y="${PAD.top + 12}">${label}</text>`,
  );
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${W / 2}" y="22" text-anchor="middle" font-size="15">${s.title}</text>`,
    ...ticks,
    ...xticks,
    ...markers,
    `<polyline fill="none" stroke="#2a7" stroke-width="2" points="${path}"/>`,
    `<text x="${W / 2}" y="${H - 12}" text-anchor="middle">${s.xLabel}</text>`,
    `<text x="16" y="${H / 2}" text-anchor="middle" transform="rotate(-90 16 ${H / 2})">${s.yLabel}</text>`,
    "</svg>",
    "",
  ].join("\n");
}
