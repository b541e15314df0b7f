// Timeline of one or more series (uPlot). Dragging across it selects a time range, shown as a band
// while the axis keeps the wider range in view; zooming is the caller's separate action (double-click).
import { useEffect, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import type { Timeline as TimelineData } from '../api.ts';
import { axisIncrements, axisUnit, formatInUnit, formatValue, timeLabel, type Units } from '../format.ts';

export interface TimelineSeries {
  readonly label: string;
  readonly color: string;
  readonly data: TimelineData;
}

export const SERIES_COLORS = [
  '#e8590c',
  '#1c7ed6',
  '#2f9e44',
  '#ae3ec9',
  '#f59f00',
  '#0ca678',
  '#e64980',
  '#5c7cfa',
  '#868e96',
  '#d9480f',
];

/** Union of bucket times (unix s) and one value column per series, 0 where a series has no bucket. */
export function alignSeries(series: readonly TimelineSeries[]): [number[], ...number[][]] {
  const xs = new Set<number>();
  for (const s of series)
    s.data.samples.forEach((_, k) => xs.add(s.data.startTime + k * s.data.durationDelta));
  const sorted = [...xs].sort((a, b) => a - b);
  const index = new Map(sorted.map((x, k) => [x, k]));
  const cols = series.map((s) => {
    const col = new Array<number>(sorted.length).fill(0);
    s.data.samples.forEach((v, k) => (col[index.get(s.data.startTime + k * s.data.durationDelta)!] = v));
    return col;
  });
  return [sorted, ...cols];
}

/** A selected range painted over the plot as a tinted band with solid edges. */
export interface TimelineBand {
  /** Names the band's element: data-testid="band-<id>". */
  readonly id: string;
  readonly fromMs: number;
  readonly untilMs: number;
  readonly color: string;
  readonly label: string;
}

/** A point of interest drawn on the line, clickable (a span exemplar: the largest span of a step). */
export interface TimelineMarker {
  /** Passed to onMarker; names the element: data-testid="marker-<id>". */
  readonly id: string;
  readonly timeMs: number;
  /** Where on the y axis (the series' value at timeMs). */
  readonly value: number;
  /** Tooltip text. */
  readonly label: string;
  /** The one whose flame graph is shown. */
  readonly selected?: boolean;
}

export function Timeline(props: {
  readonly series: readonly TimelineSeries[];
  /** The queried range: the x axis spans it whatever the data covers (one bucket, or none). */
  readonly fromMs: number;
  readonly untilMs: number;
  readonly units: Units;
  readonly onSelect: (fromMs: number, untilMs: number) => void;
  /** Double-click: zoom the axis to the selection. */
  readonly onZoom?: () => void;
  readonly bands?: readonly TimelineBand[];
  /** A band's edge handle was dragged: its new range. */
  readonly onBandChange?: (id: string, fromMs: number, untilMs: number) => void;
  readonly markers?: readonly TimelineMarker[];
  readonly onMarker?: (id: string) => void;
  readonly height?: number;
  readonly testId?: string;
  readonly theme?: 'light' | 'dark';
}) {
  const ref = useRef<HTMLDivElement>(null);
  const onSelectRef = useRef(props.onSelect);
  onSelectRef.current = props.onSelect;
  const onZoomRef = useRef(props.onZoom);
  onZoomRef.current = props.onZoom;
  const onBandChangeRef = useRef(props.onBandChange);
  onBandChangeRef.current = props.onBandChange;
  const onMarkerRef = useRef(props.onMarker);
  onMarkerRef.current = props.onMarker;
  const bandsKey = JSON.stringify(props.bands ?? []);
  const markersKey = JSON.stringify(props.markers ?? []);
  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    const data = alignSeries(props.series);
    const bands: PlacedBand[] = (JSON.parse(bandsKey) as TimelineBand[]).map((band) => {
      const div = document.createElement('div');
      div.className = 'timeline-band';
      div.dataset['testid'] = `band-${band.id}`;
      div.title = band.label;
      div.style.setProperty('--band-color', band.color);
      const placed = { band, div };
      for (const edge of ['start', 'end'] as const) {
        const handle = document.createElement('div');
        handle.className = `timeline-band-handle ${edge}`;
        handle.dataset['testid'] = `handle-${band.id}-${edge}`;
        handle.title = `Drag to move the ${edge} of the ${band.label}`;
        handle.addEventListener('mousedown', (e) => dragEdge(e, placed, edge));
        div.appendChild(handle);
      }
      return placed;
    });
    const markers: PlacedMarker[] = (JSON.parse(markersKey) as TimelineMarker[]).map((marker) => {
      const button = document.createElement('button');
      button.className = marker.selected ? 'timeline-marker on' : 'timeline-marker';
      button.dataset['testid'] = `marker-${marker.id}`;
      button.title = marker.label;
      button.setAttribute('aria-label', marker.label);
      // Its own click, not the start of a range selection.
      button.addEventListener('mousedown', (e) => e.stopPropagation());
      button.addEventListener('click', () => onMarkerRef.current?.(marker.id));
      return { marker, button };
    });
    // An edge drag moves the band live and reports its range on release; the handle stops the
    // mousedown so uPlot does not start a new selection under it.
    const dragEdge = (down: MouseEvent, placed: PlacedBand, edge: 'start' | 'end') => {
      down.preventDefault();
      down.stopPropagation();
      const move = (e: MouseEvent) => {
        const rect = plot.over.getBoundingClientRect();
        const cssPxX = Math.min(rect.width, Math.max(0, e.clientX - rect.left));
        const ms = Math.round(plot.posToVal(cssPxX, 'x') * 1000);
        const b = placed.band;
        placed.band = edge === 'start' ? { ...b, fromMs: ms } : { ...b, untilMs: ms };
        placeBands(plot, bands);
      };
      const up = (e: MouseEvent) => {
        move(e);
        document.removeEventListener('mousemove', move);
        document.removeEventListener('mouseup', up);
        const { id, fromMs, untilMs } = placed.band;
        if (untilMs !== fromMs)
          onBandChangeRef.current?.(id, Math.min(fromMs, untilMs), Math.max(fromMs, untilMs));
      };
      document.addEventListener('mousemove', move);
      document.addEventListener('mouseup', up);
    };
    // uPlot paints on a canvas, where CSS variables do not resolve: concrete colours per theme.
    const axisColor = props.theme === 'dark' ? '#9aa1ad' : '#667085';
    const gridColor = props.theme === 'dark' ? 'rgba(255,255,255,0.08)' : 'rgba(0,0,0,0.07)';
    const opts: uPlot.Options = {
      width: Math.max(200, el.clientWidth),
      height: props.height ?? 140,
      legend: { show: props.series.length > 1 },
      cursor: { drag: { x: true, y: false, setScale: false } },
      scales: {
        x: { time: true, range: [props.fromMs / 1000, Math.max(props.untilMs, props.fromMs + 1000) / 1000] },
      },
      axes: [
        {
          stroke: axisColor,
          grid: { stroke: gridColor },
          space: 64,
          // One row, precision from the tick increment: uPlot's default puts the date under the
          // first tick, where it ran into the next label whenever that tick was not a round minute.
          values: (_u, splits, _axis, _space, incr) => splits.map((s) => timeLabel(s, incr)),
        },
        {
          stroke: axisColor,
          grid: { stroke: gridColor },
          size: 70,
          // One unit per axis, from its max, and tick spacings round in that unit.
          incrs: (_u, _axis, _min, max) => axisIncrements(axisUnit(max, props.units)),
          values: (_u, vals) => {
            const unit = axisUnit(Math.max(...vals.map(Math.abs)), props.units);
            const labels = vals.map((v) => formatInUnit(v, unit));
            // The canvas hides its text from the DOM: the labels also go on the element, for tests.
            el.dataset['yTicks'] = labels.join('|');
            return labels;
          },
        },
      ],
      series: [
        {},
        ...props.series.map((s) => ({
          label: s.label,
          stroke: s.color,
          fill: props.series.length === 1 ? `${s.color}33` : undefined,
          width: 1.5,
          points: { show: false },
          value: (_u: uPlot, v: number | null) => (v == null ? '–' : formatValue(v, props.units)),
        })),
      ],
      hooks: {
        draw: [
          (u) => {
            placeBands(u, bands);
            placeMarkers(u, markers);
          },
        ],
        setSelect: [
          (u) => {
            if (u.select.width < 2) return;
            const from = u.posToVal(u.select.left, 'x') * 1000;
            const until = u.posToVal(u.select.left + u.select.width, 'x') * 1000;
            u.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false);
            onSelectRef.current(Math.round(from), Math.round(until));
          },
        ],
      },
    };
    const plot = new uPlot(opts, data as uPlot.AlignedData, el);
    for (const b of bands) plot.over.appendChild(b.div);
    for (const m of markers) plot.over.appendChild(m.button);
    const onDblClick = () => onZoomRef.current?.();
    plot.over.addEventListener('dblclick', onDblClick);
    const ro = new ResizeObserver(() =>
      plot.setSize({ width: Math.max(200, el.clientWidth), height: props.height ?? 140 }),
    );
    ro.observe(el);
    return () => {
      ro.disconnect();
      plot.destroy();
    };
  }, [
    props.series,
    props.units,
    props.height,
    props.theme,
    props.fromMs,
    props.untilMs,
    bandsKey,
    markersKey,
  ]);
  return <div className="timeline" ref={ref} data-testid={props.testId ?? 'timeline'} />;
}

interface PlacedBand {
  band: TimelineBand;
  readonly div: HTMLDivElement;
}

/** Positions each band over the plot area (CSS px of u.over), clipped to the visible x range. */
function placeBands(u: uPlot, bands: readonly PlacedBand[]): void {
  for (const { band, div } of bands) {
    const [a, b] = [band.fromMs, band.untilMs].sort((x, y) => x - y) as [number, number];
    const left = Math.max(0, u.valToPos(a / 1000, 'x'));
    const right = Math.min(u.over.clientWidth, u.valToPos(b / 1000, 'x'));
    div.style.display = right > left ? '' : 'none';
    div.style.left = `${left}px`;
    div.style.width = `${Math.max(0, right - left)}px`;
  }
}

interface PlacedMarker {
  readonly marker: TimelineMarker;
  readonly button: HTMLButtonElement;
}

/** Centres each marker on its point (CSS px of u.over), kept inside the plot; hidden outside the x range. */
function placeMarkers(u: uPlot, markers: readonly PlacedMarker[]): void {
  const w = u.over.clientWidth;
  const h = u.over.clientHeight;
  for (const { marker, button } of markers) {
    const x = u.valToPos(marker.timeMs / 1000, 'x');
    const y = Math.min(h, Math.max(0, u.valToPos(marker.value, 'y')));
    button.style.display = x >= 0 && x <= w ? '' : 'none';
    button.style.left = `${x}px`;
    button.style.top = `${y}px`;
  }
}
