// Human-readable times for the views.

export function timeOfDay(ts: number): string {
  return new Date(ts).toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' });
}

export function listTime(ts: number, now = Date.now()): string {
  const d = new Date(ts);
  const n = new Date(now);
  if (d.toDateString() === n.toDateString()) return timeOfDay(ts);
  if (now - ts < 6 * 86400000) return d.toLocaleDateString(undefined, { weekday: 'short' });
  return d.toLocaleDateString(undefined, { day: 'numeric', month: 'short' });
}

export function dayLabel(ts: number, now = Date.now()): string {
  const d = new Date(ts);
  const n = new Date(now);
  if (d.toDateString() === n.toDateString()) return 'Today';
  const y = new Date(now - 86400000);
  if (d.toDateString() === y.toDateString()) return 'Yesterday';
  return d.toLocaleDateString(undefined, { weekday: 'long', day: 'numeric', month: 'long', year: 'numeric' });
}

export function lastSeen(ts: number | null, now = Date.now()): string {
  if (ts === null) return 'offline';
  const min = Math.round((now - ts) / 60000);
  if (min < 1) return 'last seen just now';
  if (min < 60) return `last seen ${min} min ago`;
  if (new Date(ts).toDateString() === new Date(now).toDateString()) return `last seen today at ${timeOfDay(ts)}`;
  return `last seen ${new Date(ts).toLocaleDateString(undefined, { day: 'numeric', month: 'short' })} at ${timeOfDay(ts)}`;
}

/** "just now", "5 min ago", "3 h ago", else the date. */
export function ago(ts: number, now = Date.now()): string {
  const min = Math.round((now - ts) / 60000);
  if (min < 1) return 'just now';
  if (min < 60) return `${min} min ago`;
  if (min < 24 * 60) return `${Math.round(min / 60)} h ago`;
  return listTime(ts, now);
}

/** An unread count as shown: a channel's counts stop at 1000 (protocol section 3), shown "999+". */
export function countText(n: number): string {
  return n > 999 ? '999+' : String(n);
}
