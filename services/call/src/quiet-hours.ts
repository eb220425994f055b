/** Whether `now` falls inside the quiet hours [start, end) in the user's zone; a window may cross midnight. */
export function inQuietHours(now: Date, timeZone: string, start: string, end: string): boolean {
  const local = new Intl.DateTimeFormat('en-GB', {
    timeZone,
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).format(now);
  return start < end ? local >= start && local < end : local >= start || local < end;
}
