// How long each timeline's recent redraws took, in ms: window.__corralTimelineDraws[testId],
// the newest DRAW_SAMPLES only. The browser tests and the bench read it to report draw times
// (reported, never asserted: a timing in a test fails whenever the machine is busy).
const DRAW_SAMPLES = 1000;

export function recordDraw(testId: string, ms: number): void {
  const w = window as unknown as { __corralTimelineDraws?: Record<string, number[]> };
  const all = (w.__corralTimelineDraws ??= {});
  const samples = (all[testId] ??= []);
  samples.push(ms);
  if (samples.length > DRAW_SAMPLES) samples.splice(0, samples.length - DRAW_SAMPLES);
}
