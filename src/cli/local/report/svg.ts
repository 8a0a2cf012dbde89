/**
 * Draws a `StateMachineLayout` as inline SVG. Nodes are `<g class="node t-<type>" id="rn<id>">`,
 * drawn segments `<path class="seg k-<kind>" id="rs<id>">`; the report's script highlights a
 * document's path by adding the class `on` (and `err`) to them. Every text is escaped.
 */
import { GraphLayout, labelOf, LayoutNode, StateMachineLayout } from './layout';

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const TYPE_CLASS: { [type: string]: string } = {
  Task: 'task', Pass: 'pass', Choice: 'choice', Wait: 'wait', Succeed: 'succeed', Fail: 'fail', Parallel: 'parallel', Map: 'map', Start: 'start', End: 'end',
};

export function renderSvg(layout: StateMachineLayout, label: string): string {
  const { root } = layout;
  const w = Math.ceil(root.width);
  const h = Math.ceil(root.height);
  const marker = (id: string) =>
    `<marker id="${id}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,1L10,5L0,9z"/></marker>`;
  return [
    `<svg class="sm" id="sm" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${w} ${h}" width="${w}" height="${h}" role="img" aria-label="${escapeHtml(label)}">`,
    `<defs>${marker('ah')}${marker('ah-c')}${marker('ah-on')}${marker('ah-err')}</defs>`,
    renderGraph(root, 0, 0),
    '</svg>',
  ].join('');
}

function renderGraph(graph: GraphLayout, ox: number, oy: number): string {
  const parts: string[] = [`<g transform="translate(${ox},${oy})">`];
  for (const s of graph.segments) {
    parts.push(`<path id="rs${s.id}" class="seg k-${s.kind}${s.arrow ? ' arrow' : ''}" d="${s.d}"/>`);
  }
  for (const n of graph.nodes) parts.push(renderNode(n));
  parts.push('</g>');
  return parts.join('');
}

function renderNode(n: LayoutNode): string {
  const cls = TYPE_CLASS[n.type] ?? 'task';
  const head = `<g class="node t-${cls}" id="rn${n.id}"${n.kind === 'state' ? ` data-state="${escapeHtml(n.name)}"` : ''}><title>${escapeHtml(n.title)}</title>`;
  const cx = n.x + n.w / 2;
  const cy = n.y + n.h / 2;
  if (n.kind === 'start') return `${head}<circle class="shape" cx="${cx}" cy="${cy}" r="${n.w / 2}"/></g>`;
  if (n.kind === 'end') return `${head}<circle class="shape" cx="${cx}" cy="${cy}" r="${n.w / 2}"/><circle class="core" cx="${cx}" cy="${cy}" r="${n.w / 2 - 5}"/></g>`;

  const name = escapeHtml(labelOf(n.name));
  const x = round(n.x);
  const y = round(n.y);
  if (n.children.length > 0 || n.summarized !== undefined) {
    // A container: a header with the type and name, the branches (or processor) below it.
    const stack = n.type === 'Map' ? `<rect class="stack" x="${x + 4}" y="${y + 4}" width="${n.w}" height="${n.h}" rx="10"/>` : '';
    const parts = [
      head,
      stack,
      `<rect class="shape box" x="${x}" y="${y}" width="${n.w}" height="${n.h}" rx="10"/>`,
      `<text class="ty" x="${x + 10}" y="${y + 18}">${escapeHtml(n.type.toUpperCase())}</text>`,
      `<text class="nm" x="${x + 10 + n.type.length * 7.4 + 8}" y="${y + 18}">${name}</text>`,
    ];
    if (n.summarized !== undefined) {
      parts.push(`<text class="ty" x="${x + 10}" y="${y + n.h - 12}">${n.summarized} states inside</text>`);
    }
    n.children.forEach((c, i) => {
      if (i > 0) {
        const sx = round(n.x + c.dx - 8);
        parts.push(`<line class="branch-sep" x1="${sx}" y1="${y + 26}" x2="${sx}" y2="${round(n.y + n.h - 6)}"/>`);
      }
      parts.push(renderGraph(c.graph, round(n.x + c.dx), round(n.y + c.dy)));
    });
    parts.push('</g>');
    return parts.join('');
  }

  let shape: string;
  if (n.type === 'Choice') {
    const k = 12;
    shape = `<polygon class="shape" points="${x + k},${y} ${x + n.w - k},${y} ${x + n.w},${cy} ${x + n.w - k},${y + n.h} ${x + k},${y + n.h} ${x},${cy}"/>`;
  } else if (n.type === 'Succeed' || n.type === 'Fail') {
    shape = `<rect class="shape" x="${x}" y="${y}" width="${n.w}" height="${n.h}" rx="${n.h / 2}"/>`;
  } else {
    shape = `<rect class="shape" x="${x}" y="${y}" width="${n.w}" height="${n.h}" rx="${n.type === 'Pass' ? 4 : 8}"/>`;
  }
  return `${head}${shape}<text class="nm" x="${cx}" y="${y + 17}" text-anchor="middle">${name}</text><text class="ty" x="${cx}" y="${y + 31}" text-anchor="middle">${escapeHtml(n.type)}</text></g>`;
}

function round(n: number): number {
  return Math.round(n * 10) / 10;
}
