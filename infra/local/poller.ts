/**
 * The lifecycle shared by the local event-source pollers (the emulated Lambda event source
 * mappings): each can be stopped and started again on its own, e.g. to prove that events committed
 * while the dispatcher is down are delivered once it is back.
 */
export interface Poller {
  readonly name: string;
  readonly running: boolean;
  /** Starts polling (again), from where it left off. */
  start(): void;
  /** Stops polling; resolves once the batch in progress (if any) has finished. */
  stop(): Promise<void>;
}

/** What a poll loop may ask of its poller. */
export interface PollControl {
  readonly stopped: boolean;
  /** Waits `ms`, or less if the poller is stopped meanwhile. */
  sleep(ms: number): Promise<void>;
}

/**
 * A poller running `loops` copies of `loop` (each returns once `control.stopped` is true).
 * A loop that throws is restarted after a second, so one bad batch never ends polling for good.
 */
export function createPoller(name: string, loop: (control: PollControl) => Promise<void>, onError: (error: unknown) => void, loops = 1): Poller {
  let current: Run | undefined;
  let finished: Promise<void> = Promise.resolve();

  return {
    name,
    get running() {
      return current !== undefined && !current.control.stopped;
    },
    start() {
      if (current && !current.control.stopped) return;
      const run = newRun();
      current = run;
      // A restart right after a stop waits for the old loops to finish, so batches never overlap.
      finished = finished.then(() => Promise.all(Array.from({ length: loops }, () => supervise(run.control))).then(() => undefined));
    },
    async stop() {
      current?.stop();
      await finished;
    },
  };

  async function supervise(control: PollControl): Promise<void> {
    while (!control.stopped) {
      try {
        await loop(control);
      } catch (error) {
        onError(error);
        await control.sleep(1_000);
      }
    }
  }
}

interface Run {
  control: PollControl;
  stop(): void;
}

function newRun(): Run {
  let stopped = false;
  const sleepers = new Set<() => void>();
  return {
    control: {
      get stopped() {
        return stopped;
      },
      sleep(ms) {
        if (stopped) return Promise.resolve();
        return new Promise<void>((resolve) => {
          const wake = () => {
            clearTimeout(timer);
            sleepers.delete(wake);
            resolve();
          };
          const timer = setTimeout(wake, ms);
          sleepers.add(wake);
        });
      },
    },
    stop() {
      stopped = true;
      for (const wake of [...sleepers]) wake();
    },
  };
}
