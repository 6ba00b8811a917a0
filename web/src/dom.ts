/** The page's elements, looked up by id with their type checked once (a missing id is a bug in index.html). */
export function byId<T extends Element>(id: string, type: { new (): T; prototype: T }): T {
  const el = document.getElementById(id);
  if (!(el instanceof type)) {
    throw new Error(
      `#${id}: expected a ${type.name}, found ${el ? el.constructor.name : 'nothing'}`,
    );
  }
  return el;
}

/** Creates an element with text and attributes. */
export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, string> = {},
  text?: string,
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (text !== undefined) node.textContent = text;
  return node;
}

/** Lets the browser paint and handle input between training steps (setTimeout, not rAF: rAF stalls in background tabs). */
export function yieldToBrowser(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}
