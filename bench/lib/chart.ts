/** One line of the chart: a label, a colour and (reply tokens, bytes) points. */
export type Series = {
  label: string;
  color: string;
  dashed?: boolean;
  points: Array<{ x: number; y: number }>;
};

function formatBytes(bytes: number): string {
  if (bytes >= 1e6) return `${(bytes / 1e6).toFixed(bytes >= 1e7 ? 0 : 1)} MB`;
  if (bytes >= 1e3) return `${(bytes / 1e3).toFixed(bytes >= 1e4 ? 0 : 1)} KB`;
  return `${Math.round(bytes)} B`;
}

function escapeXml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/** A log-log line chart of bytes (y) against reply length (or `xLabel`), as a standalone SVG document. */
export function bytesChartSvg(
  title: string,
  series: Series[],
  xLabel = "reply length (tokens, log scale)",
): string {
  const width = 720;
  const height = 440;
  const m = { left: 80, right: 90, top: 48, bottom: 56 };
  const xs = series.flatMap((s) => s.points.map((p) => p.x));
  const ys = series.flatMap((s) => s.points.map((p) => p.y)).filter((y) => y > 0);
  const xMin = Math.log10(Math.min(...xs));
  const xMax = Math.log10(Math.max(...xs));
  const yMin = Math.floor(Math.log10(Math.min(...ys)));
  const yMax = Math.ceil(Math.log10(Math.max(...ys)));
  const px = (x: number) =>
    m.left + ((Math.log10(x) - xMin) / (xMax - xMin || 1)) * (width - m.left - m.right);
  const py = (y: number) =>
    height - m.bottom - ((Math.log10(y) - yMin) / (yMax - yMin || 1)) * (height - m.top - m.bottom);
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="${m.left}" y="24" font-size="15" font-weight="600" fill="#111">${escapeXml(title)}</text>`,
  );
  for (let e = yMin; e <= yMax; e++) {
    const y = py(10 ** e);
    out.push(
      `<line x1="${m.left}" x2="${width - m.right}" y1="${y.toFixed(1)}" y2="${y.toFixed(1)}" stroke="#e5e7eb"/>`,
      `<text x="${m.left - 8}" y="${(y + 4).toFixed(1)}" text-anchor="end" fill="#555">${formatBytes(10 ** e)}</text>`,
    );
  }
  for (const x of [...new Set(xs)].sort((a, b) => a - b)) {
    const X = px(x);
    out.push(
      `<line x1="${X.toFixed(1)}" x2="${X.toFixed(1)}" y1="${m.top}" y2="${height - m.bottom}" stroke="#f1f5f9"/>`,
      `<text x="${X.toFixed(1)}" y="${height - m.bottom + 18}" text-anchor="middle" fill="#555">${x.toLocaleString("en-US")}</text>`,
    );
  }
  out.push(
    `<text x="${(m.left + width - m.right) / 2}" y="${height - 14}" text-anchor="middle" fill="#333">${escapeXml(xLabel)}</text>`,
    `<text transform="translate(18 ${(m.top + height - m.bottom) / 2}) rotate(-90)" text-anchor="middle" fill="#333">bytes per reply (log scale)</text>`,
    `<rect x="${m.left}" y="${m.top}" width="${width - m.left - m.right}" height="${height - m.top - m.bottom}" fill="none" stroke="#9ca3af"/>`,
  );
  series.forEach((s, i) => {
    const path = s.points
      .map((p, j) => `${j === 0 ? "M" : "L"}${px(p.x).toFixed(1)},${py(p.y).toFixed(1)}`)
      .join(" ");
    out.push(
      `<path d="${path}" fill="none" stroke="${s.color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="6 4"' : ""}/>`,
    );
    for (const p of s.points) {
      out.push(
        `<circle cx="${px(p.x).toFixed(1)}" cy="${py(p.y).toFixed(1)}" r="3.5" fill="${s.color}"><title>${escapeXml(`${s.label}: ${p.x} tokens, ${formatBytes(p.y)}`)}</title></circle>`,
      );
    }
    const ly = m.top + 16 + i * 20;
    const lx = m.left + 14;
    out.push(
      `<line x1="${lx}" x2="${lx + 18}" y1="${ly}" y2="${ly}" stroke="${s.color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="6 4"' : ""}/>`,
      `<text x="${lx + 24}" y="${ly + 4}" fill="#111">${escapeXml(s.label)}</text>`,
    );
  });
  // End-of-line value labels, nudged apart so close lines stay readable.
  const labels = series
    .map((s) => ({ s, last: s.points.at(-1) }))
    .filter((l): l is { s: Series; last: { x: number; y: number } } => l.last !== undefined)
    .map((l) => ({ ...l, y: py(l.last.y) + 4 }))
    .sort((a, b) => a.y - b.y);
  for (let i = 1; i < labels.length; i++) {
    const prev = labels[i - 1]!;
    const label = labels[i]!;
    if (label.y - prev.y < 14) label.y = prev.y + 14;
  }
  for (const { s, last, y } of labels) {
    out.push(
      `<text x="${(px(last.x) + 8).toFixed(1)}" y="${y.toFixed(1)}" fill="${s.color}">${formatBytes(last.y)}</text>`,
    );
  }
  out.push("</svg>");
  return `${out.join("\n")}\n`;
}
