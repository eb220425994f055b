/**
 * The SQS emulator (fauxqs) for local runs, listening on 127.0.0.1 only. fauxqs's own startFauxqs
 * always listens on 0.0.0.0 whatever host it is given (1.9.x), which would let anyone on the network
 * read and inject call-status polls; its buildApp gives the same server, which we listen with ourselves.
 */
import { buildApp } from 'fauxqs';

export interface LocalSqs {
  /** http://127.0.0.1:<port>, the SQS_ENDPOINT of the services. */
  address: string;
  stop(): Promise<void>;
}

export async function startLocalSqs(): Promise<LocalSqs> {
  // host: the hostname fauxqs puts in the queue URLs it hands out, as startFauxqs set it.
  const app = buildApp({ logger: false, host: '127.0.0.1' });
  const address = await app.listen({ port: 0, host: '127.0.0.1' });
  return { address, stop: () => app.close() };
}
