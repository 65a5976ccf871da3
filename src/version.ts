/** The TaskService release this server is built from. Written by scripts/version.mjs from VERSION. */
export const VERSION = '0.2.0';
