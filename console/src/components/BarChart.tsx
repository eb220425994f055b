/**
 * Credits charged per day as SVG bars: a few dozen lines instead of a chart library (the first-load
 * budget is 200 KB of JavaScript). The same numbers are in a table below it for screen readers.
 */
export interface Bar {
  label: string;
  value: number;
}

const HEIGHT = 160;
const BAR = 24;
const GAP = 8;

export function BarChart({ bars, title }: { bars: Bar[]; title: string }) {
  const max = Math.max(1, ...bars.map((b) => b.value));
  const width = bars.length * (BAR + GAP) + GAP;
  return (
    <svg
      className="chart"
      viewBox={`0 0 ${width} ${HEIGHT + 36}`}
      role="img"
      aria-label={`${title}: ${bars.map((b) => `${b.label} ${b.value}`).join(', ')}`}
      preserveAspectRatio="xMinYMax meet"
    >
      {bars.map((bar, i) => {
        const h = Math.round((bar.value / max) * HEIGHT);
        const x = GAP + i * (BAR + GAP);
        return (
          <g key={bar.label}>
            <rect className="bar" x={x} y={HEIGHT - h + 14} width={BAR} height={Math.max(h, 1)} />
            <text className="value" x={x + BAR / 2} y={HEIGHT - h + 10} textAnchor="middle">
              {bar.value}
            </text>
            <text className="label" x={x + BAR / 2} y={HEIGHT + 30} textAnchor="middle">
              {bar.label.slice(5)}
            </text>
          </g>
        );
      })}
    </svg>
  );
}
