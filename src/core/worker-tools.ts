/**
 * Worker tools as replicas share them. The hub (src/workers) hosts the
 * workers connected here; another replica's router (src/store/redis) publishes
 * what they serve and reads what the others serve. Both sides speak these
 * types, so neither imports the other.
 */

/**
 * A tool as a worker declares it. Field names mirror the proto's WorkerTool,
 * and replicas publish these objects as JSON for each other, so a name
 * changed here would change what a replica of another version reads.
 */
export interface WorkerToolSpec {
  name: string;
  description: string;
  /** The JSON Schema of the arguments object as JSON text; empty means any object. */
  parametersJson: string;
  noBackground: boolean;
  /** Invocations at once on one worker; 0: no limit of its own. */
  concurrency: number;
  /** The tool's default budget (the proto's default_timeout_seconds; the wire keeps its name). */
  timeoutSeconds?: number;
  hardTimeoutSeconds?: number;
  /** How long a question of the tool waits for its answer; absent: the server default. */
  inputTimeoutSeconds?: number;
}

/** One worker tool as a replica hosts it: the definition and how many of its workers serve it. */
export interface LocalWorkerTool {
  spec: WorkerToolSpec;
  workers: number;
}

/** One worker tool served on other replicas: its workers there, and which replicas host them. */
export interface RemoteWorkerTool {
  spec: WorkerToolSpec;
  workers: number;
  instanceIds: readonly string[];
}

/** What other replicas' workers serve (the Redis worker router implements it). */
export interface RemoteWorkers {
  /** The tools served elsewhere, by name. */
  tools(): ReadonlyMap<string, RemoteWorkerTool>;
}

/** The workers of this replica, as the router publishes them (the worker hub implements it). */
export interface LocalWorkers {
  /** The tools hosted here now, by name. */
  localTools(): Map<string, LocalWorkerTool>;
  /** Calls `listener` whenever workers come or go. Returns the unsubscribe. */
  onChange(listener: () => void): () => void;
}
