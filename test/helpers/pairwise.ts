/**
 * All-pairs case selection: from the valid combinations of the given parameter values, greedily pick
 * cases until every pair of values (of two different parameters) that occurs in some valid
 * combination is covered. Deterministic: ties go to the earliest combination.
 */
export function pairwise<T extends Record<string, readonly unknown[]>>(
  params: T,
  valid: (c: { [K in keyof T]: T[K][number] }) => boolean,
): { [K in keyof T]: T[K][number] }[] {
  type Case = { [K in keyof T]: T[K][number] };
  const keys = Object.keys(params) as (keyof T)[];
  let combos: Case[] = [{} as Case];
  for (const key of keys) {
    combos = combos.flatMap((c) => params[key].map((v) => ({ ...c, [key]: v }) as Case));
  }
  combos = combos.filter(valid);
  const pairsOf = (c: Case) => {
    const out: string[] = [];
    keys.forEach((a, i) =>
      keys
        .slice(i + 1)
        .forEach((b) =>
          out.push(`${String(a)}=${JSON.stringify(c[a])}|${String(b)}=${JSON.stringify(c[b])}`),
        ),
    );
    return out;
  };
  const uncovered = new Set(combos.flatMap(pairsOf));
  const chosen: Case[] = [];
  while (uncovered.size > 0) {
    let best = combos[0];
    let bestGain = -1;
    for (const c of combos) {
      const gain = pairsOf(c).filter((p) => uncovered.has(p)).length;
      if (gain > bestGain) [best, bestGain] = [c, gain];
    }
    chosen.push(best);
    for (const p of pairsOf(best)) uncovered.delete(p);
  }
  return chosen;
}
