package taskservice

// Version is the TaskService release this client belongs to; the server reports its own
// through GetServerInfo. Written by scripts/version.mjs from the repository's VERSION file.
const Version = "0.2.0"
