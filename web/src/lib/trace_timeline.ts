// The Message trace's timeline (the Administration view draws it above the hops' table): every hop
// of admin_trace placed along one horizontal time axis that starts at the first hop, one lane per
// node, each hop a mark labelled with its name and the time since the hop before it. Only the
// geometry is here (in SVG user units; the drawing scales to the width it is given), so that it
// can be tested without a browser.
import { TraceHop } from './server_admin';
import { shortNode } from './topology';

/**
 * How times map to x. Hops of one send are microseconds apart while receipts and pushes come
 * seconds later: on a linear axis the first hops would fall on one point, so a logarithmic one
 * (of the time since the first hop, 1 µs to the last hop) is the default for such traces.
 */
export type TimeScale = 'linear' | 'log';

/** The drawing's fixed measures (SVG user units). */
export const TIMELINE = {
  width: 960,
  /** Room at the left for the lanes' names. */
  gutter: 128,
  pad: 12,
  /** A lane's axis, below the lane's top. */
  axisDy: 16,
  /** One row of labels (the hop's name and, below, its duration). */
  rowH: 32,
  /** Below a lane's last row of labels. */
  lanePad: 6,
  /** The time axis at the bottom: its line, ticks and their labels. */
  axisH: 34,
  /** A label's width is guessed from its length: this per character (11px text). */
  charW: 6.4,
  /** Labels of one lane that do not fit beside each other go on new rows, up to this many. */
  maxRows: 8,
  /** Ticks closer than this to the previous one are left out. */
  minTickGap: 56,
} as const;

export interface TimelineLane {
  node: string;
  /** "node 3f2a7b1c", or "push queue" for the push hops' node "queue". */
  label: string;
  top: number;
  height: number;
  /** The lane's axis: its marks sit on it. */
  y: number;
}

export interface TimelineMark {
  /** The hop's place in the trace (the table's row). */
  index: number;
  hop: string;
  node: string;
  lane: number;
  /** Since the first hop. */
  offset_us: number;
  /** Since the hop before it in the trace (on any node); null for the first. */
  since_prev_us: number | null;
  /** "+1.234 ms", or "start" for the first hop. */
  duration: string;
  failed: boolean;
  x: number;
  y: number;
  /**
   * The label's row in its lane (0 first), its left end (just right of the mark, unless at the
   * drawing's right edge) and its first line's baseline.
   */
  row: number;
  labelX: number;
  labelY: number;
  /** The label's guessed width. */
  labelW: number;
}

/** The move from one hop to the next: `cross` when the next is on another node. */
export interface TimelineStep {
  from: number;
  to: number;
  us: number;
  cross: boolean;
  x1: number;
  y1: number;
  x2: number;
  y2: number;
}

export interface TimelineTick {
  us: number;
  x: number;
  label: string;
}

export interface TimelineLayout {
  width: number;
  height: number;
  scale: TimeScale;
  total_us: number;
  /** The time axis runs from left (the first hop) to right (the last). */
  left: number;
  right: number;
  /** The time axis's line at the bottom. */
  axisY: number;
  lanes: TimelineLane[];
  marks: TimelineMark[];
  steps: TimelineStep[];
  ticks: TimelineTick[];
}

/** A lane's name for a node id. */
export function laneLabel(node: string): string {
  return node === 'queue' ? 'push queue' : `node ${shortNode(node)}`;
}

/** A duration in words: "850 µs", "1.234 ms", "12.35 ms", "2.500 s", "3 min 5 s". */
export function formatDuration(us: number): string {
  const sign = us < 0 ? '−' : '';
  const a = Math.abs(Math.round(us));
  if (a < 1000) return `${sign}${a} µs`;
  const digits = (v: number) => (v < 10 ? 3 : v < 100 ? 2 : 1);
  if (a < 1_000_000) return `${sign}${(a / 1000).toFixed(digits(a / 1000))} ms`;
  if (a < 60_000_000) return `${sign}${(a / 1e6).toFixed(digits(a / 1e6))} s`;
  const s = Math.round(a / 1e6);
  return `${sign}${Math.floor(s / 60)} min ${s % 60} s`;
}

/** The time since the previous hop as a mark shows it: "+1.234 ms" (or "−…" for a clock behind). */
export function formatStep(us: number): string {
  return us < 0 ? formatDuration(us) : `+${formatDuration(us)}`;
}

/** A tick's label: as short as it can be ("0", "10 µs", "2.5 ms", "1 s", "1.5 min"). */
export function formatTick(us: number): string {
  if (us === 0) return '0';
  const a = Math.abs(us);
  const [v, unit] = a < 1000 ? [us, 'µs'] : a < 1_000_000 ? [us / 1000, 'ms'] : a < 60_000_000 ? [us / 1e6, 's'] : [us / 60e6, 'min'];
  return `${Number(v.toPrecision(3))} ${unit}`;
}

/**
 * The axis a trace is best shown on: linear when its hops' gaps are of one order of magnitude
 * (the longest span at most 100 times the shortest gap between two hops), else logarithmic.
 */
export function defaultScale(hops: readonly Pick<TraceHop, 'at_us'>[]): TimeScale {
  if (hops.length < 3) return 'linear';
  const t0 = Math.min(...hops.map((h) => h.at_us));
  const total = Math.max(...hops.map((h) => h.at_us)) - t0;
  let smallest = Infinity;
  for (let i = 1; i < hops.length; i++) {
    const gap = Math.abs(hops[i].at_us - hops[i - 1].at_us);
    if (gap > 0) smallest = Math.min(smallest, gap);
  }
  return total > 0 && smallest !== Infinity && total > 100 * smallest ? 'log' : 'linear';
}

/** 1, 2 or 5 times a power of ten, at least v (v > 0). */
function niceStep(v: number): number {
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 5, 10]) if (m * p >= v - 1e-9 * p) return m * p;
  return 10 * p;
}

/**
 * Lays the hops out (in the order given, oldest first as admin_trace sends them): lanes in the
 * order their nodes first appear (as the sequence diagram's participants), each mark at its time
 * since the first hop (the earliest, should the order be off), labels that would overlap on new
 * rows of their lane.
 */
export function traceTimeline(hops: readonly TraceHop[], scale: TimeScale = defaultScale(hops)): TimelineLayout {
  const T = TIMELINE;
  const left = T.gutter;
  const right = T.width - T.pad - 96; // room after the last mark for its label
  const t0 = hops.length ? Math.min(...hops.map((h) => h.at_us)) : 0;
  const total = hops.length ? Math.max(...hops.map((h) => h.at_us)) - t0 : 0;
  const logOf = (us: number) => Math.log10(1 + Math.max(0, us));
  const xOf = (us: number): number => {
    if (total <= 0) return left;
    const share = scale === 'log' ? logOf(us) / logOf(total) : us / total;
    return left + (right - left) * Math.min(1, Math.max(0, share));
  };

  const nodes: string[] = [];
  for (const h of hops) if (!nodes.includes(h.node)) nodes.push(h.node);

  // Labels: in time order per lane, each on the first row where it clears the one before.
  const rowEnds: number[][] = nodes.map(() => []);
  const partial = hops.map((h, i) => {
    const lane = nodes.indexOf(h.node);
    const offset = h.at_us - t0;
    const since = i === 0 ? null : h.at_us - hops[i - 1].at_us;
    const duration = since === null ? 'start' : formatStep(since);
    const x = xOf(offset);
    const labelW = Math.ceil(Math.max(h.hop.length, duration.length) * T.charW) + 4;
    return { index: i, hop: h.hop, node: h.node, lane, offset_us: offset, since_prev_us: since, duration, failed: h.hop === 'failed', x, labelW, labelX: 0, row: 0 };
  });
  const byX = [...partial].sort((a, b) => a.x - b.x || a.index - b.index);
  for (const m of byX) {
    const ends = rowEnds[m.lane];
    m.labelX = Math.min(Math.max(m.x + 4, left - 8), T.width - T.pad - m.labelW);
    let row = ends.findIndex((end) => end + 6 <= m.labelX);
    if (row < 0) row = ends.length < T.maxRows ? ends.length : ends.indexOf(Math.min(...ends));
    ends[row] = Math.max(ends[row] ?? -Infinity, m.labelX + m.labelW);
    m.row = row;
  }

  const lanes: TimelineLane[] = [];
  let top = T.pad;
  for (let k = 0; k < nodes.length; k++) {
    const rows = Math.max(1, rowEnds[k].length);
    const height = T.axisDy + 8 + rows * T.rowH + T.lanePad;
    lanes.push({ node: nodes[k], label: laneLabel(nodes[k]), top, height, y: top + T.axisDy });
    top += height;
  }
  const axisY = top + 4;

  const marks: TimelineMark[] = partial.map((m) => {
    const y = lanes[m.lane].y;
    return { ...m, y, labelY: y + 8 + 12 + m.row * T.rowH };
  });

  const steps: TimelineStep[] = [];
  for (let i = 1; i < marks.length; i++) {
    const a = marks[i - 1];
    const b = marks[i];
    steps.push({ from: i - 1, to: i, us: b.since_prev_us ?? 0, cross: a.lane !== b.lane, x1: a.x, y1: a.y, x2: b.x, y2: b.y });
  }

  const ticks: TimelineTick[] = [];
  const addTick = (us: number) => {
    const x = xOf(us);
    const last = ticks[ticks.length - 1];
    if (last && x - last.x < T.minTickGap) return;
    ticks.push({ us, x, label: formatTick(us) });
  };
  addTick(0);
  if (total > 0) {
    if (scale === 'log') {
      for (let p = 1; p <= total; p *= 10) addTick(p);
    } else {
      const step = niceStep(total / 6);
      for (let k = 1; k * step <= total + 1e-9 * step; k++) addTick(k * step);
    }
  }

  return { width: T.width, height: axisY + T.axisH, scale, total_us: total, left, right, axisY, lanes, marks, steps, ticks };
}
