/**
 * Marks a sideways-scrolling box with data-overflows while its content is wider than it, so the CSS
 * can show a hint next to it ("scroll sideways") — a phone user otherwise sees a clipped table.
 */
export function watchOverflow(box: HTMLElement): void {
  const update = () => box.toggleAttribute('data-overflows', box.scrollWidth > box.clientWidth);
  const observer = new ResizeObserver(update);
  observer.observe(box);
  for (const child of box.children) observer.observe(child);
  update();
}
