// What the Timeline page says it holds of an agent's events (its stats' data-seqs: per agent, the
// count, first, last and sum of the seqs), as a pattern to compare with the agent's own timeline.
export function seqDigest(label: string, seqs: readonly number[]): RegExp {
  return new RegExp(`(^|,)${label}:${seqs.length}:${seqs[0] ?? 0}:${seqs.at(-1) ?? 0}:${seqs.reduce((x, y) => x + y, 0)}(,|$)`);
}
