import { describe, expect, it } from 'vitest';
import { escapeXml, logDecades, renderLatencyChart } from '../dist/bench/svg.js';

/** The (x, y) pixel points of the polyline drawn for `name`. */
function pointsOf(svg: string, name: string): [number, number][] {
  const match = new RegExp(`<polyline data-series="${name}"[^>]* points="([^"]*)"`).exec(svg);
  if (!match) return [];
  return (match[1] as string).split(' ').map((p) => p.split(',').map(Number) as [number, number]);
}

describe('the ack-latency chart', () => {
  const series = [
    {
      name: 'idle',
      points: [
        [0, 1],
        [500, 1.2],
        [1000, 0.9],
      ] as [number, number][],
    },
    {
      name: 'sync',
      points: [
        [0, 8000],
        [1000, 7000],
        [2000, 10],
      ] as [number, number][],
    },
  ];
  const svg = renderLatencyChart(series, { title: 'Ack latency <test>', subtitle: 'npm run bench', deadline: { ms: 3000, label: 'deadline' } });

  it('is one SVG document with a line and a legend entry per series', () => {
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
    expect(svg.match(/<polyline /g)).toHaveLength(2);
    expect(pointsOf(svg, 'idle')).toHaveLength(3);
    expect(svg).toContain('>idle</text>');
    expect(svg).toContain('>sync</text>');
  });

  it('draws latency on a log scale: each decade is the same height, and slower is higher', () => {
    const decades = renderLatencyChart(
      [
        {
          name: 'd',
          points: [
            [0, 1],
            [1, 10],
            [2, 100],
            [3, 1000],
          ],
        },
      ],
      { title: 't' },
    );
    const ys = pointsOf(decades, 'd').map(([, y]) => y);
    const steps = ys.slice(1).map((y, i) => (ys[i] as number) - y);
    for (const step of steps) {
      expect(step).toBeGreaterThan(0); // SVG y grows downwards: a slower ack is drawn higher
      expect(step).toBeCloseTo(steps[0] as number, 0);
    }
    const [first, second] = pointsOf(svg, 'sync') as [[number, number], [number, number]];
    expect(second[0]).toBeGreaterThan(first[0]);
  });

  it('puts time on x, from the sweep start, and marks the deadline', () => {
    expect(svg).toContain('stroke-dasharray');
    expect(svg).toContain('>deadline</text>');
    expect(svg).toContain('>0 s</text>');
  });

  it('escapes text, and keeps a legend entry for a series with no points', () => {
    expect(svg).toContain('Ack latency &lt;test&gt;');
    expect(escapeXml(`a&b"c'<>`)).toBe('a&amp;b&quot;c&apos;&lt;&gt;');
    const empty = renderLatencyChart([{ name: 'none', points: [] }], { title: 't' });
    expect(empty).toContain('>none</text>');
    expect(empty).not.toContain('<polyline');
  });

  it('spans whole decades around the data', () => {
    expect(logDecades(0.4, 8000)).toEqual([0.1, 1, 10, 100, 1000, 10000]);
    expect(logDecades(5, 5)).toEqual([1, 10]);
  });
});
