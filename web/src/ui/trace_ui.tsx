// The Message trace's drawings (the Administration view shows them with the hops' table): a
// timeline of the hops, one lane per node (its layout is lib/trace_timeline.ts), and the
// server's Mermaid sequence diagram, drawn by the mermaid package (loaded only once a trace is
// shown, mermaid_svg.ts), with its source to copy.
import { useEffect, useRef, useState } from 'preact/hooks';
import { TraceReply } from '../lib/server_admin';
import { defaultScale, formatDuration, TimeScale, traceTimeline } from '../lib/trace_timeline';
import { plural } from '../lib/topology';
import { adoptSheet, DiagramLoadError, DiagramTextError, drawMermaid } from './mermaid_svg';

// ------------------------------------------------------------------ timeline

export function TraceTimeline({ trace }: { trace: TraceReply }) {
  // The view shows a new answer in a new component: the default axis is the answer's.
  const [scale, setScale] = useState<TimeScale>(() => defaultScale(trace.hops));
  if (trace.hops.length === 0) return null;
  const L = traceTimeline(trace.hops, scale);
  const prefix = `trace-timeline-${trace.trace_id}`;
  return (
    <div class="trace-drawing">
      <h4>Timeline</h4>
      <p class="muted trace-drawing-note">
        Each hop on its node’s lane, at its time since the first hop, with the time since the hop before it (on any node). The time axis is{' '}
        {scale === 'log' ? 'logarithmic' : 'linear'}.
        <label class="inline-check">
          <input type="checkbox" checked={scale === 'log'} onChange={(e) => setScale((e.target as HTMLInputElement).checked ? 'log' : 'linear')} />
          Logarithmic time axis
        </label>
      </p>
      <div class="trace-timeline-wrap" role="region" aria-label="Trace timeline" tabIndex={0}>
        <svg
          class="trace-timeline"
          data-scale={scale}
          viewBox={`0 0 ${L.width} ${L.height}`}
          role="img"
          aria-labelledby={`${prefix}-title ${prefix}-desc`}
        >
          <title id={`${prefix}-title`}>Timeline of trace {trace.trace_id}</title>
          <desc id={`${prefix}-desc`}>
            {`${plural(L.marks.length, 'hop')} on ${plural(L.lanes.length, 'node')} over ${formatDuration(L.total_us)}. The hops are in the table below.`}
          </desc>
          {L.lanes.map((lane, k) => (
            <g key={lane.node} class="lane" data-node={lane.node}>
              {k > 0 && <line class="lane-sep" x1={0} y1={lane.top} x2={L.width} y2={lane.top} />}
              <text class="lane-label" x={4} y={lane.y + 4}>
                {lane.label}
                <title>{lane.node === 'queue' ? 'The push queue (which node queued a push is not kept)' : `node ${lane.node}`}</title>
              </text>
              <line class="lane-axis" x1={L.left} y1={lane.y} x2={L.right} y2={lane.y} />
            </g>
          ))}
          {/* Lines first, then the marks and their labels over them (a halo keeps the text legible). */}
          <g class="steps">
            {L.steps
              .filter((s) => s.cross)
              .map((s) => (
                <line key={s.to} class="step" x1={s.x1} y1={s.y1} x2={s.x2} y2={s.y2}>
                  <title>{`${trace.hops[s.from].hop} → ${trace.hops[s.to].hop}: ${formatDuration(s.us)}`}</title>
                </line>
              ))}
            {L.marks.map((m) => (
              <line key={m.index} class="leader" x1={m.x} y1={m.y} x2={m.x} y2={m.labelY + 16} />
            ))}
          </g>
          {L.marks.map((m) => (
            <g key={m.index} class={`mark${m.failed ? ' failed' : ''}`} data-hop={m.hop} data-index={m.index}>
              <title>{`${m.hop} on ${L.lanes[m.lane].label} at ${formatDuration(m.offset_us)}${
                m.since_prev_us === null ? '' : `, ${m.duration} after ${trace.hops[m.index - 1].hop}`
              }`}</title>
              <circle cx={m.x} cy={m.y} r={4.5} />
              <text class="hop-name" x={m.labelX} y={m.labelY}>
                {m.hop}
              </text>
              <text class="duration" x={m.labelX} y={m.labelY + 13}>
                {m.duration}
              </text>
            </g>
          ))}
          <g class="time-axis">
            <line x1={L.left} y1={L.axisY} x2={L.right} y2={L.axisY} />
            {L.ticks.map((t) => (
              <g key={t.us} class="tick">
                <line x1={t.x} y1={L.axisY} x2={t.x} y2={L.axisY + 5} />
                <text x={t.x} y={L.axisY + 18}>
                  {t.label}
                </text>
              </g>
            ))}
          </g>
        </svg>
      </div>
    </div>
  );
}

// ------------------------------------------------------------------ sequence diagram

/** More hops than this are not drawn as a sequence diagram (a channel's trace can have thousands). */
export const MAX_DIAGRAM_HOPS = 400;

type DiagramState = { kind: 'drawing' } | { kind: 'drawn' } | { kind: 'failed'; message: string };

/** The server's Mermaid text drawn as a sequence diagram; a clear message if it cannot be. */
export function TraceDiagram({ trace }: { trace: TraceReply }) {
  if (trace.hops.length > MAX_DIAGRAM_HOPS)
    return (
      <div class="trace-drawing">
        <h4>Sequence diagram</h4>
        <p class="muted" data-testid="trace-diagram-skipped">
          Not drawn: this trace has {trace.hops.length} hops, more than {MAX_DIAGRAM_HOPS}. The table above and the diagram’s source below have them all.
        </p>
      </div>
    );
  return <SequenceDiagram trace={trace} />;
}

function SequenceDiagram({ trace }: { trace: TraceReply }) {
  const box = useRef<HTMLDivElement>(null);
  const [state, setState] = useState<DiagramState>({ kind: 'drawing' });
  useEffect(() => {
    let live = true;
    let release = () => {};
    const el = box.current;
    setState({ kind: 'drawing' });
    el?.replaceChildren();
    void (async () => {
      try {
        const { svg, sheet } = await drawMermaid(trace.mermaid, `Sequence diagram of trace ${trace.trace_id}`);
        if (!live || !el) return;
        release = adoptSheet(sheet);
        el.replaceChildren(svg);
        setState({ kind: 'drawn' });
      } catch (e) {
        if (!live) return;
        console.warn('sequence diagram not drawn:', e);
        setState({ kind: 'failed', message: diagramError(e) });
      }
    })();
    return () => {
      live = false;
      release();
      el?.replaceChildren();
    };
  }, [trace.mermaid, trace.trace_id]);
  return (
    <div class="trace-drawing" data-diagram={state.kind}>
      <h4>Sequence diagram</h4>
      <p class="muted trace-drawing-note">As the server describes it: one participant per node, each hop with the time since the one before.</p>
      {state.kind === 'drawing' && (
        <p class="muted" role="status">
          Drawing the sequence diagram…
        </p>
      )}
      {state.kind === 'failed' && (
        <p class="error" role="alert" data-testid="trace-diagram-error">
          The sequence diagram could not be drawn: {state.message}. The hops are in the table above, and the diagram’s source below.
        </p>
      )}
      {/* Filled by the effect, not by Preact: it has no children of its own. */}
      <div class="trace-diagram" ref={box} role="region" aria-label="Sequence diagram" tabIndex={state.kind === 'drawn' ? 0 : -1} hidden={state.kind !== 'drawn'} />
    </div>
  );
}

function diagramError(e: unknown): string {
  if (e instanceof DiagramLoadError) return `${e.message}; reloading the page may help`;
  if (e instanceof DiagramTextError) return e.message ? `Mermaid says “${e.message}”` : 'Mermaid gave no reason';
  return `this browser could not show it (${e instanceof Error ? e.message : String(e)})`;
}

/** The Mermaid text as the server sent it, to paste into any Mermaid renderer. */
export function MermaidSource({ text }: { text: string }) {
  const [copied, setCopied] = useState('');
  async function copy() {
    try {
      await navigator.clipboard.writeText(text);
      setCopied('Copied.');
    } catch {
      setCopied('Could not copy: select the text and copy it.');
    }
  }
  return (
    <details class="mermaid-details">
      <summary>Mermaid source</summary>
      <p class="copy-row">
        <button type="button" onClick={() => void copy()}>
          Copy source
        </button>{' '}
        <span class="muted" role="status">
          {copied}
        </span>
      </p>
      <pre class="mermaid-source" data-testid="trace-mermaid">
        {text}
      </pre>
    </details>
  );
}
