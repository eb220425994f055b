import { createContext, useCallback, useContext, useEffect, useRef, useState } from 'react';
import type { ConsoleConfig } from './config';
import type { Gateway } from './gateway';

export interface ConsoleContext {
  config: ConsoleConfig;
  gateway: Gateway;
}
export const Console = createContext<ConsoleContext | null>(null);

export function useConsole(): ConsoleContext {
  const value = useContext(Console);
  if (!value) throw new Error('useConsole outside <Console.Provider>');
  return value;
}

export interface Loaded<T> {
  data: T | undefined;
  error: Error | undefined;
  loading: boolean;
  /** Loads again, keeping what is shown until the new answer (live updates do not flash "Loading"). */
  reload: () => void;
}

/** Runs `load` when `key` changes; the newest answer wins, an older one arriving late is dropped. */
export function useLoad<T>(load: () => Promise<T>, key: string): Loaded<T> {
  const [state, setState] = useState<{ data?: T; error?: Error; loading: boolean }>({ loading: true });
  const generation = useRef(0);
  const latest = useRef(load);
  latest.current = load;
  const run = useCallback(() => {
    const mine = ++generation.current;
    setState((s) => ({ ...s, loading: true }));
    latest.current().then(
      (data) => mine === generation.current && setState({ data, loading: false }),
      (error: Error) => mine === generation.current && setState((s) => ({ data: s.data, error, loading: false })),
    );
  }, []);
  // biome-ignore lint/correctness/useExhaustiveDependencies: key is what identifies the load
  useEffect(run, [key]);
  return { data: state.data, error: state.error, loading: state.loading, reload: run };
}

/** Re-runs `onChange` when the gateway says one of `uris` changed (resource subscriptions). */
export function useWatch(uris: string[], onChange: () => void): void {
  const { gateway } = useConsole();
  const latest = useRef(onChange);
  latest.current = onChange;
  const joined = uris.join(' ');
  useEffect(() => {
    const stops = joined
      .split(' ')
      .filter(Boolean)
      .map((uri) => gateway.watch(uri, () => latest.current()));
    return () => {
      for (const stop of stops) stop();
    };
  }, [gateway, joined]);
}
