// Times as the page shows them. One formatter each, made once: `toLocaleTimeString` with options builds a new
// Intl.DateTimeFormat per call, which was most of the time spent rendering a screen of messages (profiled).
const clock = new Intl.DateTimeFormat([], { hour: "2-digit", minute: "2-digit" });
const dateAndClock = new Intl.DateTimeFormat([], { dateStyle: "short", timeStyle: "short" });

/** "14:05": a message's time. */
export const clockTime = (iso: string): string => clock.format(new Date(iso));

/** "02/12/2026, 14:05": a conversation's last activity. */
export const shortDateTime = (iso: string): string => dateAndClock.format(new Date(iso));
