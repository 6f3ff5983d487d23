import { describe, expect, it } from 'vitest';
import { createPoller, type PollControl } from '../../../infra/local/poller.ts';

/** A poll loop whose batches the test releases one at a time. */
function gatedLoop() {
  const events: string[] = [];
  let release: (() => void) | undefined;
  let batch = 0;
  const loop = async (control: PollControl) => {
    while (!control.stopped) {
      const id = ++batch;
      events.push(`start ${id}`);
      await new Promise<void>((resolve) => (release = resolve));
      events.push(`end ${id}`);
    }
  };
  const releaseBatch = async () => {
    while (!release) await new Promise((resolve) => setTimeout(resolve, 1));
    const current = release;
    release = undefined;
    current();
  };
  const until = async (event: string) => {
    while (!events.includes(event)) await new Promise((resolve) => setTimeout(resolve, 1));
  };
  return { events, loop, releaseBatch, until };
}

describe('poller lifecycle', () => {
  it('lets the batch in progress finish when stopped, and starts no new one', async () => {
    const { events, loop, releaseBatch, until } = gatedLoop();
    const poller = createPoller('test', loop, () => {});
    poller.start();
    await releaseBatch();
    await until('start 2');
    const stopped = poller.stop();
    expect(poller.running).toBe(false);
    await releaseBatch();
    await stopped;
    expect(events).toEqual(['start 1', 'end 1', 'start 2', 'end 2']);
  });

  it('starts again after a stop, never running two batches at once', async () => {
    const { events, loop, releaseBatch, until } = gatedLoop();
    const poller = createPoller('test', loop, () => {});
    poller.start();
    await until('start 1');
    const stopped = poller.stop();
    poller.start();
    expect(poller.running).toBe(true);
    await releaseBatch();
    await stopped;
    await releaseBatch();
    await until('start 3');
    const final = poller.stop();
    await releaseBatch();
    await final;
    expect(events).toEqual(['start 1', 'end 1', 'start 2', 'end 2', 'start 3', 'end 3']);
  });

  it('wakes a sleeping loop when stopped', async () => {
    const poller = createPoller('test', (control) => control.sleep(60_000), () => {});
    poller.start();
    await poller.stop();
    expect(poller.running).toBe(false);
  });

  it('reports a failing loop and keeps polling', async () => {
    const errors: unknown[] = [];
    let calls = 0;
    const poller = createPoller(
      'test',
      async (control) => {
        calls++;
        if (calls === 1) throw new Error('emulator unreachable');
        await control.sleep(60_000);
      },
      (error) => errors.push(error),
    );
    poller.start();
    while (calls < 2) await new Promise((resolve) => setTimeout(resolve, 20));
    await poller.stop();
    expect(errors).toEqual([new Error('emulator unreachable')]);
  });
});
