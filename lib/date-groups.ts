/**
 * The sidebar's date groups, as ChatGPT and Claude name them: Today, Yesterday, Previous 7 days,
 * Previous 30 days, then each earlier month ("March", with its year when not this year). Days are
 * the reader's local calendar days.
 */

const DAY_MS = 24 * 60 * 60 * 1000;

function startOfDay(time: number): number {
  const date = new Date(time);
  date.setHours(0, 0, 0, 0);
  return date.getTime();
}

/** The name of the group a chat last active at `time` falls in, seen at `now`. */
export function dateGroup(time: number, now: number): string {
  const today = startOfDay(now);
  if (time >= today) return "Today";
  // Calendar days, not 24-hour steps: a day of a daylight-saving change is 23 or 25 hours long.
  const days = Math.round((today - startOfDay(time)) / DAY_MS);
  if (days <= 1) return "Yesterday";
  if (days <= 7) return "Previous 7 days";
  if (days <= 30) return "Previous 30 days";
  const date = new Date(time);
  const sameYear = date.getFullYear() === new Date(now).getFullYear();
  return date.toLocaleDateString(
    "en-US",
    sameYear ? { month: "long" } : { month: "long", year: "numeric" },
  );
}

/** Items newest first, in runs of the same date group (the order is kept). */
export function groupByDate<T extends { lastActivityAt: number }>(
  items: readonly T[],
  now: number,
): { label: string; items: T[] }[] {
  const groups: { label: string; items: T[] }[] = [];
  for (const item of items) {
    const label = dateGroup(item.lastActivityAt, now);
    const last = groups.at(-1);
    if (last?.label === label) last.items.push(item);
    else groups.push({ label, items: [item] });
  }
  return groups;
}
