import { status as Code } from '@grpc/grpc-js';
import { expect } from 'chai';
import {
  type Figures,
  type Kind,
  type LoadOptions,
  measureFailover,
  replicaEnv,
  startTopology,
  type Topology,
} from '../../bench/failover.js';
import { eventually } from '../helpers/core.js';
import { type Replica, startReplicas } from '../helpers/replicas.js';
import { call } from '../helpers/server.js';

/**
 * A short version of `npm run bench:failover`: under a small load, the master (Sentinel) or one master
 * (Cluster, with one replica per master) is killed with SIGKILL and its replica promoted. Replication is
 * asynchronous, so writes acknowledged just before the kill may be lost (docs/REDIS.md, "What a failover can
 * lose"): this asserts only what cannot fail. The figures are in docs/RELIABILITY.md ("Failover under load").
 */
const LOAD: LoadOptions = {
  rate: 40,
  seconds: 9,
  killAtSeconds: 3,
  sleepSeconds: 1,
  budgetSeconds: 0.2,
  users: 50,
  deadlineMs: 2000,
  maxInFlight: 200,
  leaseSeconds: 2,
};
/** A generous bound for calls to succeed again after the kill. */
const RECOVERY_MS = 30_000;
const figure = (text: string) => console.log(`      FIGURE: ${text}`);

const alive = (r: Replica) => r.child.exitCode === null && r.child.signalCode === null;

describe('Redis failover under load', function () {
  this.timeout(60_000);

  for (const kind of ['sentinel', 'cluster'] as Kind[]) {
    describe(kind === 'sentinel' ? 'Sentinel: the master killed' : 'Cluster: a master killed', () => {
      let topology: Topology | undefined;
      let replicas: Replica[] = [];

      before(async () => {
        topology = await startTopology(kind, false);
        replicas = await startReplicas(2, replicaEnv(topology, LOAD.leaseSeconds));
      });
      after(async () => {
        await Promise.all(replicas.map((r) => r.stop()));
        replicas = [];
        await topology?.stop();
        topology = undefined;
      });

      it(
        'recovers, crashes no replica, loses nothing replicated before the kill, leaves no task RUNNING ' +
          'without a live owner, and answers every task id with a state or NOT_FOUND',
        async () => {
          const f: Figures = await measureFailover(topology!, replicas, LOAD);
          figure(
            `${kind}, appendonly no, ${f.calls} Executes at ${LOAD.rate}/s: codes ${JSON.stringify(f.codes)}, ` +
              `promoted ${f.promotedMs} ms after the kill, errors from ${f.errorWindow?.firstMs ?? '-'} to ` +
              `${f.errorWindow?.lastMs ?? '-'} ms, lost ${f.lost.created + f.lost.finished}, rewound ` +
              `${f.rewound.total}, RUNNING at the end ${f.runningAtEnd} (without a live owner ` +
              `${f.runningWithoutLiveOwner}), worker_lost ${f.workerLost}, ` +
              `replicas alive ${f.alive}/${replicas.length}`,
          );

          // The deployment promoted the replica, and calls succeed again: the failures ended within the bound,
          // and every replica answers Executes now.
          expect(f.promotedMs, 'the replica was never promoted').to.not.equal(null);
          if (f.errorWindow) expect(f.errorWindow.lastMs).to.be.below(RECOVERY_MS);
          for (const r of replicas) {
            await eventually(
              () =>
                call(
                  r.client.execute,
                  r.client,
                  {
                    toolName: 'echo',
                    argumentsJson: '{"text":"after"}',
                    userId: 'after',
                    channelId: '',
                    platform: '',
                    requestId: `after-${Date.now()}`,
                  },
                  2000,
                ).then(
                  () => true,
                  () => false,
                ),
              { timeoutMs: 10_000, intervalMs: 200, what: 'an Execute succeeds after the failover' },
            );
          }

          // No TaskService process exited.
          expect(replicas.filter(alive).length).to.equal(replicas.length);
          expect(f.serving).to.equal(replicas.length);

          // Finished tasks read back before the replication mark (SET + WAIT 1 on the killed master, just before
          // the kill) were on the promoted replica: none lost or changed.
          expect(f.acknowledged.seenFinishedBeforeMark).to.be.above(0);
          expect(f.replicatedButLost).to.equal(0);

          // After the sweep has had time, no task is RUNNING for an owner that is not alive.
          expect(f.runningWithoutLiveOwner).to.equal(0);

          // Every task id the client holds answers a state or NOT_FOUND, never an internal error.
          expect(f.acknowledged.background).to.be.above(0);
          expect(f.finalBadCodes).to.deep.equal({});

          // Every Execute during the failover ended OK, UNAVAILABLE or DEADLINE_EXCEEDED: never INTERNAL (a MOVED
          // reply right after a Cluster promotion once was).
          const allowed = new Set([Code[Code.OK], Code[Code.UNAVAILABLE], Code[Code.DEADLINE_EXCEEDED]]);
          expect(Object.keys(f.codes).filter((c) => !allowed.has(c))).to.deep.equal([]);
        },
      );
    });
  }
});
