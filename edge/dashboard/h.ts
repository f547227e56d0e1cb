/**
 * hono/jsx without JSX syntax: `h(tag, props, ...children)` builds the same nodes a `.tsx` file would,
 * escaped the same way, but it runs as plain TypeScript under Node's type stripping, Deno and wrangler
 * alike (Node cannot load `.tsx`), so the dashboard needs no build step.
 */
import { type Child, Fragment, jsx } from "hono/jsx";

export type { Child };
export type Node = ReturnType<typeof jsx>;
export type Props = Record<string, unknown>;

export const h = (tag: string | ((props: never) => Child), props: Props | null, ...children: Child[]): Node =>
  jsx(tag as string, props, ...children);

export const fragment = (...children: Child[]): Node => jsx(Fragment as never, null, ...children);

/** A whole page as HTML text. */
export async function renderPage(node: Node): Promise<string> {
  return `<!doctype html>${await node.toString()}`;
}
