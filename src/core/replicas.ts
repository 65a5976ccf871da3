/** One live replica, as the lease table knows it (the console's replicas page). */
export interface ReplicaInfo {
  instanceId: string;
  /** When its lease runs out (epoch ms); a live replica renews it every few seconds. */
  leaseExpiresAt: number;
  /** Tasks its process runs now (the store's list of them). */
  running: number;
}

/** Where the live replicas are listed: a shared store's lease table. Absent with the memory store (one replica). */
export interface ReplicaDirectory {
  liveReplicas(): Promise<ReplicaInfo[]>;
}
