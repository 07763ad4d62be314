/**
 * A small SVG plot of Cloudflare API calls (bars) and drift found (dots) per run over a window,
 * drawn on the server: no script, readable on a phone.
 */

/** One run on the plot (`atMs`: when it started, epoch ms). */
export interface PlotPoint {
  atMs: number;
  apiCalls: number;
  drift: number;
}

const WIDTH = 640;
const HEIGHT = 160;
const PAD = 28;

/** The plot of `points` between `fromMs` and `toMs` (epoch ms, `fromMs` < `toMs`). */
export function RunPlot(props: { points: PlotPoint[]; fromMs: number; toMs: number }) {
  const { points, fromMs, toMs } = props;
  const maxCalls = Math.max(1, ...points.map((p) => p.apiCalls));
  const maxDrift = Math.max(1, ...points.map((p) => p.drift));
  const x = (atMs: number) => PAD + ((atMs - fromMs) / (toMs - fromMs)) * (WIDTH - 2 * PAD);
  const y = (value: number, max: number) => HEIGHT - PAD - (value / max) * (HEIGHT - 2 * PAD);
  return (
    <svg
      viewBox={`0 0 ${WIDTH} ${HEIGHT}`}
      role="img"
      aria-label={`API calls and drift for ${points.length} runs`}
      class="plot"
    >
      <line x1={PAD} y1={HEIGHT - PAD} x2={WIDTH - PAD} y2={HEIGHT - PAD} stroke="#999" />
      <text x={PAD} y={PAD - 10} font-size="14">
        API calls (bars, max {maxCalls}) · drift (dots, max {maxDrift})
      </text>
      <text x={PAD} y={HEIGHT - 8} font-size="14">
        {new Date(fromMs).toISOString().slice(11, 16)} UTC
      </text>
      <text x={WIDTH - PAD} y={HEIGHT - 8} font-size="14" text-anchor="end">
        {new Date(toMs).toISOString().slice(11, 16)} UTC
      </text>
      {points.map((p) => (
        <rect
          x={x(p.atMs) - 2}
          y={y(p.apiCalls, maxCalls)}
          width="4"
          height={HEIGHT - PAD - y(p.apiCalls, maxCalls)}
          fill="#4a78c2"
        >
          <title>{`${new Date(p.atMs).toISOString()}: ${p.apiCalls} API calls, ${p.drift} drift`}</title>
        </rect>
      ))}
      {points
        .filter((p) => p.drift > 0)
        .map((p) => (
          <circle cx={x(p.atMs)} cy={y(p.drift, maxDrift)} r="4" fill="#d9822b" />
        ))}
    </svg>
  );
}
