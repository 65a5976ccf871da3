/** The TaskService release this client belongs to. Written by scripts/version.mjs from VERSION. */
export const VERSION = '0.2.0';
