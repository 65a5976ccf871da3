import {
  Metadata,
  ResponderBuilder,
  ServerInterceptingCall,
  type ServerInterceptor,
  ServerListenerBuilder,
  status,
} from '@grpc/grpc-js';
import { ANYONE, type Caller } from '../core/caller.js';
import type { Logger } from '../core/logger.js';
import { NO_RPC_OBSERVER, type RpcObserver } from './rpc-recorder.js';
import type { TokenBook } from '../auth/tokens.js';

/** The caller of a call whose metadata the interceptor already let in. */
export type Identify = (metadata: Metadata) => Caller;

/** Who may call without a token: health always (load balancers), reflection if so configured. */
export function openMethod(path: string, reflectionNeedsToken: boolean): boolean {
  if (path.startsWith('/grpc.health.v1.Health/')) return true;
  return !reflectionNeedsToken && path.startsWith('/grpc.reflection.');
}

/**
 * Refuses, with UNAUTHENTICATED, every call without a valid bearer token
 * before its handler runs or its request is read (streams included: a worker
 * or an AwaitResult stream never opens). The token itself is never logged.
 */
export function authInterceptor(
  tokens: TokenBook,
  reflectionNeedsToken: boolean,
  logger: Logger,
  observer: RpcObserver = NO_RPC_OBSERVER,
): ServerInterceptor {
  return (method, call) => {
    if (openMethod(method.path, reflectionNeedsToken)) return new ServerInterceptingCall(call);
    const listener = new ServerListenerBuilder()
      .withOnReceiveMetadata((metadata, next) => {
        const who = tokens.identify(headerOf(metadata));
        if ('problem' in who) {
          const [, service = '', name = ''] = method.path.split('/');
          observer.rpcFinished(service, name, status.UNAUTHENTICATED, 0);
          logger.info({ method: method.path, code: 'UNAUTHENTICATED', details: who.problem }, 'rpc refused');
          call.sendStatus({ code: status.UNAUTHENTICATED, details: who.problem, metadata: new Metadata() });
          return;
        }
        next(metadata);
      })
      .build();
    const responder = new ResponderBuilder().withStart((next) => next(listener)).build();
    return new ServerInterceptingCall(call, responder);
  };
}

/** For handlers: the caller behind a call's metadata (ANYONE when authentication is off). */
export function identifier(tokens: TokenBook): Identify {
  if (!tokens.enabled) return () => ANYONE;
  return (metadata) => {
    const who = tokens.identify(headerOf(metadata));
    // The interceptor has refused every call this would reject; be strict anyway.
    if ('problem' in who) throw new Error('a call reached its handler without valid credentials');
    return who;
  };
}

function headerOf(metadata: Metadata): string | undefined {
  const value = metadata.get('authorization')[0];
  return typeof value === 'string' ? value : undefined;
}
