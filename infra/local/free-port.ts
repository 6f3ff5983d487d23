/**
 * Ports for the emulators, chosen by the OS so that two stacks (or a stack and the tests' own stack)
 * never collide.
 */
import { createServer } from 'node:net';

/**
 * A port that was free a moment ago on 127.0.0.1. For a process that must be given a port number
 * up front (DynamoDB Local); servers in this process listen on port 0 instead, which has no race.
 */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.unref();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      probe.close(() => (port ? resolve(port) : reject(new Error('Could not obtain a free port'))));
    });
  });
}
