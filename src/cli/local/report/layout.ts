/**
 * A layered layout of a Step Functions definition (ASL), for the run report's SVG.
 *
 * Sugiyama-style, small and dependency-free: back edges found by DFS from `StartAt` are reversed,
 * states get longest-path layers, edges spanning several layers go through dummy points (edges
 * of one kind into the same state share them, so many `Catch` edges into one failure handler
 * become one trunk), barycenter sweeps order each layer, and an isotonic regression places each
 * layer as close as possible to its neighbours without overlaps.
 *
 * Parallel and Map states are compound nodes: their branches (or item processor) are laid out
 * recursively and drawn inside them. Every state, edge and drawn segment gets a number unique in
 * the whole machine, so a document's path can be given as sets of numbers.
 */

/** How an edge leaves its state. */
export type EdgeKind = 'next' | 'default' | 'choice' | 'catch' | 'start' | 'end';

export interface LayoutNode {
  /** Unique in the whole state machine. */
  readonly id: number;
  /** `state` for an ASL state; `start` / `end` for the machine's entry and exit markers. */
  readonly kind: 'state' | 'start' | 'end';
  /** The state name ('' for start and end). */
  readonly name: string;
  /** The ASL `Type` (Task, Choice, ...), or Start / End. */
  readonly type: string;
  /** Top-left corner and size, relative to the graph the node belongs to. */
  readonly x: number;
  readonly y: number;
  readonly w: number;
  readonly h: number;
  /** Tooltip text. */
  readonly title: string;
  /** A Parallel's branches or a Map's item processor, laid out inside the node. */
  readonly children: ReadonlyArray<{ readonly dx: number; readonly dy: number; readonly graph: GraphLayout }>;
  /** When nesting is too deep to draw: how many states the node holds. */
  readonly summarized?: number;
}

export interface LayoutEdge {
  /** Unique in the whole state machine. */
  readonly id: number;
  readonly from: number;
  readonly to: number;
  readonly kind: EdgeKind;
  /** The drawn segments this edge runs through (shared with other edges on a trunk). */
  readonly segments: readonly number[];
}

export interface LayoutSegment {
  /** Unique in the whole state machine. */
  readonly id: number;
  /** SVG path data, relative to the graph. */
  readonly d: string;
  /** The kind of the edges drawn through it. */
  readonly kind: EdgeKind;
  /** Whether the segment ends at a state (draw an arrowhead). */
  readonly arrow: boolean;
}

export interface GraphLayout {
  /** Unique in the whole state machine: the top level is 0, each branch or item processor has its own. */
  readonly scope: number;
  readonly width: number;
  readonly height: number;
  readonly nodes: readonly LayoutNode[];
  readonly edges: readonly LayoutEdge[];
  readonly segments: readonly LayoutSegment[];
}

export interface StateMachineLayout {
  readonly root: GraphLayout;
  /** State name → node id. */
  readonly stateIds: ReadonlyMap<string, number>;
  /** State name → ASL type. */
  readonly stateTypes: ReadonlyMap<string, string>;
  /** State name → the scope of the graph it is drawn in. */
  readonly scopes: ReadonlyMap<string, number>;
  /** Every edge, by id. */
  readonly edges: readonly LayoutEdge[];
  /** Node ids of the start and end markers of the top level. */
  readonly startId: number;
  readonly endId?: number;
  /** The top-level states that end the execution with `End: true`. */
  readonly startAt: string;
}

/** Geometry, in SVG user units. */
export const GEOMETRY = {
  nodeHeight: 40,
  layerGap: 44,
  nodeGap: 28,
  dummyGap: 10,
  pad: 14,
  compoundHeader: 30,
  compoundPad: 12,
  branchGap: 16,
  charWidth: 6.9,
  minNodeWidth: 92,
  maxNodeWidth: 210,
  terminal: 18,
  maxDepth: 4,
} as const;

/** The longest state name drawn in full; longer ones are cut with an ellipsis (the tooltip has it whole). */
export function labelOf(name: string): string {
  const max = Math.floor((GEOMETRY.maxNodeWidth - 24) / GEOMETRY.charWidth);
  return name.length <= max ? name : name.slice(0, max - 1) + '…';
}

interface Ids {
  node: number;
  edge: number;
  segment: number;
  scope: number;
  readonly stateIds: Map<string, number>;
  readonly stateTypes: Map<string, string>;
  readonly scopes: Map<string, number>;
  readonly edges: LayoutEdge[];
}

/** Lays out a definition. Unknown targets (a `Next` to a missing state) are ignored. */
export function layoutStateMachine(definition: { StartAt: string; States: { [name: string]: any } }): StateMachineLayout {
  const ids: Ids = { node: 0, edge: 0, segment: 0, scope: 0, stateIds: new Map(), stateTypes: new Map(), scopes: new Map(), edges: [] };
  const root = layoutGraph(ids, definition.States ?? {}, definition.StartAt, 0, true);
  const start = root.nodes.find((n) => n.kind === 'start')!;
  const end = root.nodes.find((n) => n.kind === 'end');
  return {
    root,
    stateIds: ids.stateIds,
    stateTypes: ids.stateTypes,
    scopes: ids.scopes,
    edges: ids.edges,
    startId: start.id,
    endId: end?.id,
    startAt: definition.StartAt,
  };
}

// ---------------------------------------------------------------------------------------------
// One graph (the top level, a branch, an item processor)
// ---------------------------------------------------------------------------------------------

interface Vertex {
  readonly key: string;
  readonly dummy: boolean;
  readonly w: number;
  readonly h: number;
  layer: number;
  order: number;
  x: number;
  /** Discovery rank, the initial order. */
  rank: number;
}

interface RawEdge {
  readonly from: string;
  readonly to: string;
  readonly kind: EdgeKind;
}

/** A link between vertices of adjacent layers: `upper` is in the layer above `lower`. */
interface Link {
  readonly id: number;
  readonly upper: string;
  readonly lower: string;
  /** Drawn from lower to upper (a reversed back edge). */
  readonly reversed: boolean;
  readonly kind: EdgeKind;
}

function layoutGraph(ids: Ids, states: { [name: string]: any }, startAt: string, depth: number, top: boolean): GraphLayout {
  const scope = ids.scope++;
  const G = GEOMETRY;
  const names = Object.keys(states);

  // Nodes, with their size (compound nodes lay out their inside first).
  const info = new Map<string, { id: number; kind: LayoutNode['kind']; name: string; type: string; w: number; h: number; title: string; children: LayoutNode['children']; summarized?: number }>();
  const addTerminal = (key: string, kind: 'start' | 'end') => {
    info.set(key, { id: ids.node++, kind, name: '', type: kind === 'start' ? 'Start' : 'End', w: G.terminal, h: G.terminal, title: kind === 'start' ? 'Start' : 'End', children: [] });
  };
  if (top) addTerminal('^', 'start');
  for (const name of names) {
    const state = states[name] ?? {};
    const type = String(state.Type ?? 'Task');
    const id = ids.node++;
    ids.stateIds.set(name, id);
    ids.stateTypes.set(name, type);
    ids.scopes.set(name, scope);
    const inner: Array<{ StartAt: string; States: { [n: string]: any } }> =
      type === 'Parallel' ? (state.Branches ?? []) : type === 'Map' ? [state.ItemProcessor ?? state.Iterator].filter(Boolean) : [];
    const textWidth = Math.min(G.maxNodeWidth, Math.max(G.minNodeWidth, labelOf(name).length * G.charWidth + 28));
    if (inner.length === 0) {
      info.set(name, { id, kind: 'state', name, type, w: textWidth, h: G.nodeHeight, title: titleOf(name, type, state), children: [] });
      continue;
    }
    if (depth + 1 >= G.maxDepth) {
      const count = inner.reduce((n, g) => n + countStates(g.States ?? {}), 0);
      const w = Math.max(textWidth, (labelOf(name).length + type.length) * G.charWidth + 40);
      info.set(name, { id, kind: 'state', name, type, w, h: G.nodeHeight + 14, title: titleOf(name, type, state), children: [], summarized: count });
      continue;
    }
    const graphs = inner.map((g) => layoutGraph(ids, g.States ?? {}, g.StartAt, depth + 1, false));
    const children: Array<{ dx: number; dy: number; graph: GraphLayout }> = [];
    let dx = G.compoundPad;
    for (const graph of graphs) {
      children.push({ dx, dy: G.compoundHeader, graph });
      dx += graph.width + G.branchGap;
    }
    const innerWidth = dx - G.branchGap + G.compoundPad;
    const w = Math.max(textWidth + 60, innerWidth);
    // Centre the branches when the header is wider than they are.
    const shift = (w - innerWidth) / 2;
    const centred = children.map((c) => ({ ...c, dx: c.dx + shift }));
    const h = G.compoundHeader + Math.max(...graphs.map((g) => g.height)) + G.compoundPad / 2;
    info.set(name, { id, kind: 'state', name, type, w, h, title: titleOf(name, type, state), children: centred });
  }

  // Edges, in the order a reader expects: Next, Default, Choices, then Catch.
  const raw: RawEdge[] = [];
  const seen = new Set<string>();
  const push = (from: string, to: unknown, kind: EdgeKind) => {
    if (typeof to !== 'string' || !info.has(to) || !info.has(from)) return;
    const k = `${from}\u0000${to}\u0000${kind}`;
    if (seen.has(k)) return;
    seen.add(k);
    raw.push({ from, to, kind });
  };
  if (top) push('^', startAt, 'start');
  let needsEnd = false;
  for (const name of names) {
    const s = states[name] ?? {};
    push(name, s.Next, 'next');
    for (const c of s.Choices ?? []) push(name, c?.Next, 'choice');
    push(name, s.Default, 'default');
    for (const c of s.Catch ?? []) push(name, c?.Next, 'catch');
    if (top && s.End === true) needsEnd = true;
  }
  if (needsEnd) {
    addTerminal('$', 'end');
    for (const name of names) if (states[name]?.End === true) push(name, '$', 'end');
  }

  const edgeIds = new Map<RawEdge, number>();
  for (const e of raw) edgeIds.set(e, ids.edge++);

  // Discovery order (DFS from the start, then any state not reached) and back edges.
  const out = new Map<string, RawEdge[]>();
  for (const key of info.keys()) out.set(key, []);
  for (const e of raw) out.get(e.from)!.push(e);
  const rank = new Map<string, number>();
  const onStack = new Set<string>();
  const back = new Set<RawEdge>();
  const dfs = (key: string) => {
    rank.set(key, rank.size);
    onStack.add(key);
    for (const e of out.get(key)!) {
      if (e.to === e.from) continue;
      if (onStack.has(e.to)) back.add(e);
      else if (!rank.has(e.to)) dfs(e.to);
    }
    onStack.delete(key);
  };
  const first = top ? '^' : startAt;
  if (info.has(first)) dfs(first);
  for (const key of info.keys()) if (!rank.has(key) && key !== '$') dfs(key);
  if (info.has('$') && !rank.has('$')) rank.set('$', rank.size);

  // Longest-path layers over the acyclic graph (back edges reversed, self loops dropped).
  const dag = raw.filter((e) => e.from !== e.to).map((e) => (back.has(e) ? { up: e.to, down: e.from, e } : { up: e.from, down: e.to, e }));
  const layer = new Map<string, number>();
  const indegree = new Map<string, number>();
  for (const key of info.keys()) indegree.set(key, 0);
  for (const { down } of dag) indegree.set(down, indegree.get(down)! + 1);
  const queue = [...info.keys()].filter((k) => indegree.get(k) === 0).sort((a, b) => rank.get(a)! - rank.get(b)!);
  for (const k of queue) layer.set(k, 0);
  while (queue.length > 0) {
    const k = queue.shift()!;
    for (const { up, down } of dag) {
      if (up !== k) continue;
      layer.set(down, Math.max(layer.get(down) ?? 0, layer.get(k)! + 1));
      indegree.set(down, indegree.get(down)! - 1);
      if (indegree.get(down) === 0) queue.push(down);
    }
  }

  const vertices = new Map<string, Vertex>();
  for (const [key, n] of info) {
    vertices.set(key, { key, dummy: false, w: n.w, h: n.h, layer: layer.get(key) ?? 0, order: 0, x: 0, rank: rank.get(key) ?? 0 });
  }

  // Links between adjacent layers, through shared dummies for long edges.
  const links = new Map<string, Link>();
  const linkOwners = new Map<string, Set<RawEdge>>();
  const addLink = (upper: string, lower: string, reversed: boolean, kind: EdgeKind, owner: RawEdge) => {
    const k = `${upper}\u0000${lower}\u0000${reversed}`;
    if (!links.has(k)) {
      links.set(k, { id: -1, upper, lower, reversed, kind });
      linkOwners.set(k, new Set());
    }
    linkOwners.get(k)!.add(owner);
    return k;
  };
  const edgeLinks = new Map<RawEdge, string[]>();
  for (const { up, down, e } of dag) {
    const reversed = back.has(e);
    const from = layer.get(up)!;
    const to = layer.get(down)!;
    const chain: string[] = [];
    let prev = up;
    for (let l = from + 1; l < to; l++) {
      // Forward edges of one family into the same state share their dummies (a trunk).
      const family = e.kind === 'catch' ? 'c' : 'n';
      const key = reversed ? `~${edgeIds.get(e)}@${l}` : `~${down}|${family}@${l}`;
      if (!vertices.has(key)) {
        const base = vertices.get(up)!;
        vertices.set(key, { key, dummy: true, w: 0, h: 0, layer: l, order: 0, x: 0, rank: base.rank + (family === 'c' ? 1000 : 0.5) });
      }
      chain.push(addLink(prev, key, reversed, e.kind, e));
      prev = key;
    }
    chain.push(addLink(prev, down, reversed, e.kind, e));
    edgeLinks.set(e, chain);
  }

  // Layers, ordered by barycenter sweeps; the order with the fewest crossings wins.
  const depthCount = Math.max(0, ...[...vertices.values()].map((v) => v.layer)) + 1;
  const layers: string[][] = Array.from({ length: depthCount }, () => []);
  for (const v of vertices.values()) layers[v.layer].push(v.key);
  for (const l of layers) l.sort((a, b) => vertices.get(a)!.rank - vertices.get(b)!.rank);
  const ups = new Map<string, string[]>();
  const downs = new Map<string, string[]>();
  // How strongly a link pulls its ends together: a trunk stays straight, Catch edges barely move states.
  const upWeights = new Map<string, number[]>();
  const downWeights = new Map<string, number[]>();
  for (const key of vertices.keys()) {
    ups.set(key, []);
    downs.set(key, []);
    upWeights.set(key, []);
    downWeights.set(key, []);
  }
  for (const link of links.values()) {
    const a = vertices.get(link.upper)!;
    const b = vertices.get(link.lower)!;
    const weight = a.dummy && b.dummy ? 2 : link.kind === 'catch' ? 0.15 : 1;
    downs.get(link.upper)!.push(link.lower);
    downWeights.get(link.upper)!.push(weight);
    ups.get(link.lower)!.push(link.upper);
    upWeights.get(link.lower)!.push(weight);
  }
  const setOrder = () => layers.forEach((l) => l.forEach((k, i) => (vertices.get(k)!.order = i)));
  setOrder();
  const crossings = () => {
    let count = 0;
    const all = [...links.values()];
    for (let i = 0; i < all.length; i++) {
      for (let j = i + 1; j < all.length; j++) {
        const a = all[i];
        const b = all[j];
        if (vertices.get(a.upper)!.layer !== vertices.get(b.upper)!.layer) continue;
        const du = vertices.get(a.upper)!.order - vertices.get(b.upper)!.order;
        const dl = vertices.get(a.lower)!.order - vertices.get(b.lower)!.order;
        if (du * dl < 0) count++;
      }
    }
    return count;
  };
  let best = layers.map((l) => [...l]);
  let bestCrossings = crossings();
  for (let sweep = 0; sweep < 6 && bestCrossings > 0; sweep++) {
    const down = sweep % 2 === 0;
    const range = down ? layers.map((_, i) => i).slice(1) : layers.map((_, i) => i).reverse().slice(1);
    for (const li of range) {
      const neighbours = down ? ups : downs;
      const bary = new Map<string, number>();
      for (const k of layers[li]) {
        const ns = neighbours.get(k)!;
        bary.set(k, ns.length === 0 ? vertices.get(k)!.order : ns.reduce((s, n) => s + vertices.get(n)!.order, 0) / ns.length);
      }
      layers[li].sort((a, b) => bary.get(a)! - bary.get(b)! || vertices.get(a)!.rank - vertices.get(b)!.rank);
      setOrder();
    }
    const c = crossings();
    if (c < bestCrossings) {
      bestCrossings = c;
      best = layers.map((l) => [...l]);
    }
  }
  best.forEach((l, i) => (layers[i] = l));
  setOrder();

  // x: pack each layer, then pull each vertex towards its neighbours (alternating sweeps).
  const gapBetween = (a: Vertex, b: Vertex) => (a.dummy && b.dummy ? G.dummyGap : a.dummy || b.dummy ? G.dummyGap * 1.6 : G.nodeGap);
  const placeLayer = (keys: string[], desired: number[]) => {
    const vs = keys.map((k) => vertices.get(k)!);
    const gaps = vs.map((v, i) => (i === 0 ? 0 : (vs[i - 1].w + v.w) / 2 + gapBetween(vs[i - 1], v)));
    // States are heavier than dummies: a trunk gives way to the state it runs beside.
    const xs = placeInOrder(desired, gaps, vs.map((v) => (v.dummy ? 1 : 8)));
    vs.forEach((v, i) => (v.x = xs[i]));
  };
  for (const keys of layers) placeLayer(keys, keys.map(() => 0));
  const pull = (li: number, neighbours: Map<string, string[]>, weights: Map<string, number[]>) => {
    const keys = layers[li];
    placeLayer(keys, keys.map((k) => {
      const ns = neighbours.get(k)!;
      const ws = weights.get(k)!;
      const total = ws.reduce((s, w) => s + w, 0);
      return ns.length === 0 ? vertices.get(k)!.x : ns.reduce((s, n, i) => s + vertices.get(n)!.x * ws[i], 0) / total;
    }));
  };
  for (let iter = 0; iter < 10; iter++) {
    for (let li = 1; li < layers.length; li++) pull(li, ups, upWeights);
    for (let li = layers.length - 2; li >= 0; li--) pull(li, downs, downWeights);
  }
  for (let li = 1; li < layers.length; li++) pull(li, ups, upWeights);

  // Normalize x; y per layer (nodes hang from the layer's top).
  let minX = Infinity;
  let maxX = -Infinity;
  for (const v of vertices.values()) {
    minX = Math.min(minX, v.x - v.w / 2);
    maxX = Math.max(maxX, v.x + v.w / 2);
  }
  if (!Number.isFinite(minX)) {
    minX = 0;
    maxX = 0;
  }
  const pad = top ? G.pad : 4;
  for (const v of vertices.values()) v.x = v.x - minX + pad;
  const layerTop: number[] = [];
  const layerHeight: number[] = [];
  let y = pad;
  for (const keys of layers) {
    const height = Math.max(0, ...keys.map((k) => vertices.get(k)!.h));
    layerTop.push(y);
    layerHeight.push(height);
    y += height + G.layerGap;
  }
  const height = y - G.layerGap + pad;
  const width = maxX - minX + 2 * pad;
  const topOf = (v: Vertex) => (v.dummy ? layerTop[v.layer] : layerTop[v.layer] + (layerHeight[v.layer] - v.h) / 2);
  const bottomOf = (v: Vertex) => (v.dummy ? layerTop[v.layer] + layerHeight[v.layer] : topOf(v) + v.h);

  // Ports: edges leaving (or entering) a node are spread along its bottom (top), sorted by the other end's x.
  const portX = new Map<string, number>();
  const spread = (v: Vertex, linkKeys: string[], otherOf: (l: Link) => string, side: 'out' | 'in') => {
    if (v.dummy) {
      for (const k of linkKeys) portX.set(`${side}:${k}`, v.x);
      return;
    }
    // The ordinary edges share the middle; Catch edges leave beside them, towards their target.
    const xOf = (k: string) => vertices.get(otherOf(links.get(k)!))!.x;
    const byX = (a: string, b: string) => xOf(a) - xOf(b);
    const normal = linkKeys.filter((k) => links.get(k)!.kind !== 'catch').sort(byX);
    const caught = linkKeys.filter((k) => links.get(k)!.kind === 'catch');
    const step = Math.min(12, v.w / (linkKeys.length + 1));
    normal.forEach((k, i) => portX.set(`${side}:${k}`, v.x + (i - (normal.length - 1) / 2) * step));
    const half = normal.length === 0 ? -step : ((normal.length - 1) / 2) * step;
    const left = caught.filter((k) => xOf(k) < v.x).sort(byX).reverse();
    const right = caught.filter((k) => xOf(k) >= v.x).sort(byX);
    left.forEach((k, i) => portX.set(`${side}:${k}`, v.x - half - step * (i + 1)));
    right.forEach((k, i) => portX.set(`${side}:${k}`, v.x + half + step * (i + 1)));
  };
  for (const v of vertices.values()) {
    const below = [...links.keys()].filter((k) => links.get(k)!.upper === v.key);
    const above = [...links.keys()].filter((k) => links.get(k)!.lower === v.key);
    spread(v, below, (l) => l.lower, 'out');
    spread(v, above, (l) => l.upper, 'in');
  }

  // Segments: one drawn path per link, numbered; a dummy's vertical run is drawn with the link entering it.
  const segmentIds = new Map<string, number>();
  const segments: LayoutSegment[] = [];
  for (const [k, link] of links) {
    const u = vertices.get(link.upper)!;
    const l = vertices.get(link.lower)!;
    const x1 = portX.get(`out:${k}`)!;
    const y1 = bottomOf(u);
    const x2 = portX.get(`in:${k}`)!;
    const y2 = topOf(l);
    let d: string;
    let arrow: boolean;
    if (!link.reversed) {
      d = `M${r(x1)},${r(y1)}${curve(x1, y1, x2, y2)}`;
      if (l.dummy) d += `L${r(x2)},${r(bottomOf(l))}`;
      arrow = !l.dummy;
    } else {
      d = `M${r(x2)},${r(y2)}${curve(x2, y2, x1, y1)}`;
      if (u.dummy) d += `L${r(x1)},${r(topOf(u))}`;
      arrow = !u.dummy;
    }
    const id = ids.segment++;
    segmentIds.set(k, id);
    segments.push({ id, d, kind: link.kind, arrow });
  }
  // Self loops: a small arc on the node's right.
  const selfSegments = new Map<RawEdge, number>();
  for (const e of raw) {
    if (e.from !== e.to) continue;
    const v = vertices.get(e.from)!;
    const xr = v.x + v.w / 2;
    const yt = topOf(v) + 8;
    const yb = topOf(v) + v.h - 8;
    const id = ids.segment++;
    segments.push({ id, d: `M${r(xr)},${r(yb)}C${r(xr + 28)},${r(yb)} ${r(xr + 28)},${r(yt)} ${r(xr)},${r(yt)}`, kind: e.kind, arrow: true });
    selfSegments.set(e, id);
  }

  const nodes: LayoutNode[] = [];
  for (const [key, n] of info) {
    const v = vertices.get(key)!;
    nodes.push({ ...n, x: v.x - v.w / 2, y: topOf(v) });
  }
  const edges: LayoutEdge[] = raw.map((e) => ({
    id: edgeIds.get(e)!,
    from: info.get(e.from)!.id,
    to: info.get(e.to)!.id,
    kind: e.kind,
    segments: selfSegments.has(e) ? [selfSegments.get(e)!] : (edgeLinks.get(e) ?? []).map((k) => segmentIds.get(k)!),
  }));
  ids.edges.push(...edges);
  return { scope, width: Math.max(width, G.terminal + 2 * pad), height: Math.max(height, G.terminal + 2 * pad), nodes, edges, segments };
}

/**
 * Positions in a fixed order, closest (weighted least squares) to `desired`, with `minGap[i]`
 * between position i-1 and i: an isotonic regression (pool adjacent violators) after shifting out
 * the gaps. A heavier position moves less when two want the same place.
 */
export function placeInOrder(desired: readonly number[], minGap: readonly number[], weight: readonly number[] = []): number[] {
  const offset: number[] = [];
  let acc = 0;
  for (let i = 0; i < desired.length; i++) {
    acc += i === 0 ? 0 : minGap[i];
    offset.push(acc);
  }
  const blocks: Array<{ sum: number; weight: number; count: number }> = [];
  for (let i = 0; i < desired.length; i++) {
    const w = weight[i] ?? 1;
    blocks.push({ sum: (desired[i] - offset[i]) * w, weight: w, count: 1 });
    while (blocks.length > 1) {
      const b = blocks[blocks.length - 1];
      const a = blocks[blocks.length - 2];
      if (a.sum / a.weight <= b.sum / b.weight) break;
      blocks.pop();
      a.sum += b.sum;
      a.weight += b.weight;
      a.count += b.count;
    }
  }
  const out: number[] = [];
  for (const b of blocks) for (let i = 0; i < b.count; i++) out.push(b.sum / b.weight + offset[out.length]);
  return out;
}

function curve(x1: number, y1: number, x2: number, y2: number): string {
  const dy = (y2 - y1) / 2;
  return `C${r(x1)},${r(y1 + dy)} ${r(x2)},${r(y2 - dy)} ${r(x2)},${r(y2)}`;
}

function r(n: number): string {
  return String(Math.round(n * 10) / 10);
}

function countStates(states: { [name: string]: any }): number {
  let n = 0;
  for (const s of Object.values(states)) {
    n++;
    for (const b of s?.Branches ?? []) n += countStates(b?.States ?? {});
    const inner = s?.ItemProcessor ?? s?.Iterator;
    if (inner) n += countStates(inner.States ?? {});
  }
  return n;
}

function titleOf(name: string, type: string, state: any): string {
  const lines = [`${name} (${type})`];
  if (typeof state.Resource === 'string') lines.push(state.Resource);
  if (typeof state.Comment === 'string') lines.push(state.Comment);
  if (Array.isArray(state.Retry) && state.Retry.length > 0) {
    lines.push(`Retry: ${state.Retry.map((x: any) => (x?.ErrorEquals ?? []).join(', ')).join('; ')}`);
  }
  if (Array.isArray(state.Catch) && state.Catch.length > 0) {
    lines.push(`Catch: ${state.Catch.map((x: any) => `${(x?.ErrorEquals ?? []).join(', ')} → ${x?.Next}`).join('; ')}`);
  }
  if (type === 'Wait') {
    const w = state.Seconds ?? state.SecondsPath ?? state.Timestamp ?? state.TimestampPath;
    if (w !== undefined) lines.push(`Wait: ${w}`);
  }
  if (type === 'Fail' && (state.Error || state.Cause)) lines.push(`${state.Error ?? ''} ${state.Cause ?? ''}`.trim());
  return lines.join('\n');
}

// ---------------------------------------------------------------------------------------------
// A document's path
// ---------------------------------------------------------------------------------------------

export interface PathStep {
  readonly state: string;
  readonly error?: string;
}

export interface PathHighlight {
  /** Node ids of the states entered (and the start / end markers). */
  readonly nodes: number[];
  /** Node ids of the states whose step reports an error. */
  readonly errors: number[];
  /** Edge ids taken. */
  readonly edges: number[];
  /** Segment ids to draw highlighted. */
  readonly segments: number[];
}

/**
 * What to highlight for a path: the states entered, and each edge between two states entered one
 * after the other in the same graph (a branch's own states are followed on their own). When a step
 * reports an error, its `Catch` edge is preferred to its `Next`; otherwise the reverse.
 */
export function highlightPath(layout: StateMachineLayout, path: readonly PathStep[], succeeded: boolean): PathHighlight {
  const nodes = new Set<number>();
  const errors = new Set<number>();
  const edges = new Set<number>();
  const byScope = new Map<number, PathStep[]>();
  for (const step of path) {
    const id = layout.stateIds.get(step.state);
    if (id === undefined) continue;
    nodes.add(id);
    if (step.error) errors.add(id);
    const scope = layout.scopes.get(step.state)!;
    if (!byScope.has(scope)) byScope.set(scope, []);
    byScope.get(scope)!.push(step);
  }
  const between = (from: number, to: number) => layout.edges.filter((e) => e.from === from && e.to === to);
  for (const steps of byScope.values()) {
    for (let i = 0; i + 1 < steps.length; i++) {
      const candidates = between(layout.stateIds.get(steps[i].state)!, layout.stateIds.get(steps[i + 1].state)!);
      if (candidates.length === 0) continue;
      const caught = candidates.filter((e) => e.kind === 'catch');
      const normal = candidates.filter((e) => e.kind !== 'catch');
      const chosen = steps[i].error ? (caught.length > 0 ? caught : normal) : (normal.length > 0 ? normal : caught);
      for (const e of chosen) edges.add(e.id);
    }
  }
  const topSteps = byScope.get(layout.root.scope) ?? [];
  if (topSteps.length > 0) {
    nodes.add(layout.startId);
    for (const e of between(layout.startId, layout.stateIds.get(topSteps[0].state)!)) edges.add(e.id);
    if (succeeded && layout.endId !== undefined) {
      const last = between(layout.stateIds.get(topSteps[topSteps.length - 1].state)!, layout.endId);
      if (last.length > 0) {
        nodes.add(layout.endId);
        for (const e of last) edges.add(e.id);
      }
    }
  }
  const segments = new Set<number>();
  for (const e of layout.edges) if (edges.has(e.id)) for (const s of e.segments) segments.add(s);
  const sorted = (s: Set<number>) => [...s].sort((a, b) => a - b);
  return { nodes: sorted(nodes), errors: sorted(errors), edges: sorted(edges), segments: sorted(segments) };
}
