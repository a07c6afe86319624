// The results as an SVG bar chart: for each throughput scenario, each implementation's median
// relative to raw C (the longest bar), with the absolute median written beside it.
const COLORS = { poll: '#2b7bb9', thread: '#7b52ab', dropin: '#c0392b', epoll: '#d9822b', net: '#7a7a7a', c: '#3a9d5d', cnest: '#8fc9a3' };
const TITLES = {
  pingpong: 'pingpong — round trips/s',
  chain: 'chain — events/s, one pipe re-armed by its own callback',
  idle: 'pingpong with 10,000 idle fds — round trips/s',
  fanin: 'fanin — events/s, 256 pipes ready at once',
  churn: 'churn — add + remove pairs/s',
};

const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;');
const k = (x) => (x >= 1e6 ? `${(x / 1e6).toFixed(2)}M` : `${(x / 1e3).toFixed(1)}k`);

/** "2 vCPUs (a VM; AMD EPYC)": a guest's CPUs are shares of a host's, not whole chips. */
export function machineName(m) {
  return m.virtual ? `${m.cpus} vCPUs (a VM; ${m.model})` : `${m.cpus} CPUs (${m.model})`;
}

export function renderChart(report, labels) {
  const impls = ['poll', 'thread', 'dropin', 'epoll', 'net', 'c', 'cnest'];
  const width = 760;
  const left = 170;
  const barMax = 430;
  const bar = 16;
  const gap = 4;
  let y = 66;
  const parts = [];
  for (const [scenario, title] of Object.entries(TITLES)) {
    const s = report.summary[scenario];
    const top = Math.max(...impls.map((i) => s[i]?.median ?? 0));
    parts.push(`<text x="10" y="${y}" class="h">${esc(title)}</text>`);
    y += 10;
    for (const impl of impls) {
      const m = s[impl]?.median;
      const w = m ? Math.max(1, (m / top) * barMax) : 0;
      parts.push(`<text x="${left - 8}" y="${y + 12}" class="l" text-anchor="end">${esc(labels[impl])}</text>`);
      if (m) {
        const vsC = s.c?.median ? ` (${(m / s.c.median).toFixed(2)}× raw C)` : '';
        parts.push(`<rect x="${left}" y="${y}" width="${w.toFixed(1)}" height="${bar}" fill="${COLORS[impl]}"/>`);
        parts.push(`<text x="${left + w + 6}" y="${y + 12}" class="v">${k(m)}${esc(vsC)}</text>`);
      } else {
        parts.push(`<text x="${left + 6}" y="${y + 12}" class="v">cannot run this scenario</text>`);
      }
      y += bar + gap;
    }
    y += 22;
  }
  const m = report.machine;
  const sub = `${machineName(m)}, Linux ${m.kernel}, Node ${m.node}, ${report.date.slice(0, 10)}; medians of ${report.settings.repetitions} interleaved runs`;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${y}" viewBox="0 0 ${width} ${y}" font-family="system-ui, sans-serif">
<style>.t{font-size:16px;font-weight:600}.s{font-size:11px;fill:#555}.h{font-size:13px;font-weight:600}.l{font-size:12px}.v{font-size:11px}</style>
<rect width="100%" height="100%" fill="#fff"/>
<text x="10" y="22" class="t">poll against the epoll package, net.Socket and raw C</text>
<text x="10" y="40" class="s">${esc(sub)}</text>
${parts.join('\n')}
</svg>
`;
}
