/** The check's name: its function's (after the prefix), its logger's and metrics' service dimension. */
export const SERVICE = 'kafka-record-check';
