/**
 * One requestAnimationFrame loop for every chart: each frame, each chart checks whether its data changed
 * or its window moved, and redraws at most once. However many points arrive per second, a chart draws at
 * most once per frame, and not at all in a hidden tab (browsers pause animation frames there).
 */
type FrameCallback = (now: number) => void;

const callbacks = new Set<FrameCallback>();
let scheduled = false;

function frame(): void {
  scheduled = false;
  const now = Date.now();
  for (const callback of callbacks) callback(now);
  if (callbacks.size > 0) schedule();
}

function schedule(): void {
  if (scheduled) return;
  scheduled = true;
  requestAnimationFrame(frame);
}

export function onEveryFrame(callback: FrameCallback): () => void {
  callbacks.add(callback);
  schedule();
  return () => callbacks.delete(callback);
}
