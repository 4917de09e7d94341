// Shares the engine transport and the live state with every screen, and loads what a screen needs
// (only the commands the engine says it implements: the rest show "not available yet").
import {
  createContext,
  type Dispatch,
  type ReactNode,
  useCallback,
  useContext,
  useEffect,
  useMemo,
  useReducer,
  useRef,
} from 'react';
import type { ApiFailure, CommandType } from '../core/api/contract.ts';
import { type Action, type AppState, initialState, reduce } from './state.ts';
import type { Transport } from './transport.ts';

export interface AppContextValue {
  engine: Transport;
  state: AppState;
  dispatch: Dispatch<Action>;
  /** Whether the engine implements a command (false while unknown). */
  can(type: CommandType): boolean;
  reload(): Promise<void>;
}

const Ctx = createContext<AppContextValue | null>(null);

export function useApp(): AppContextValue {
  const v = useContext(Ctx);
  if (!v) throw new Error('useApp outside AppProvider');
  return v;
}

function report(what: string, r: ApiFailure): void {
  if (r.error !== 'not-available') console.warn(`${what} failed`, r.error, r.message ?? '');
}

export function AppProvider({ engine, children }: { engine: Transport; children: ReactNode }) {
  const [state, dispatch] = useReducer(reduce, { ...initialState, conn: engine.state });

  const reload = useCallback(async () => {
    const caps = await engine.command({ type: 'engine.capabilities' });
    if (!caps.ok) return report('capabilities', caps);
    dispatch({ type: 'capabilities', commands: caps.value.commands });
    const has = new Set(caps.value.commands);
    const status = await engine.command({ type: 'office.status' });
    if (!status.ok) return report('office status', status);
    dispatch({ type: 'status', status: status.value });
    if (!status.value.enrolled) return;
    // Independent lists load in parallel; each fills its part of the screen when it arrives.
    const loads: Promise<void>[] = [];
    if (has.has('members.list'))
      loads.push(
        engine.command({ type: 'members.list' }).then((r) => {
          if (r.ok) dispatch({ type: 'members', members: r.value.members });
          else report('members', r);
        }),
      );
    if (has.has('calls.list'))
      loads.push(
        engine.command({ type: 'calls.list' }).then((r) => {
          if (r.ok) dispatch({ type: 'calls', calls: r.value.calls });
          else report('calls', r);
        }),
      );
    if (has.has('voicemail.list'))
      loads.push(
        engine.command({ type: 'voicemail.list' }).then((r) => {
          if (r.ok) dispatch({ type: 'voicemail', messages: r.value.messages });
          else report('voicemail', r);
        }),
      );
    if (status.value.admin && has.has('join-requests.list'))
      loads.push(
        engine.command({ type: 'join-requests.list' }).then((r) => {
          if (r.ok) dispatch({ type: 'joinRequests', requests: r.value.requests });
          else report('join requests', r);
        }),
      );
    await Promise.all(loads);
  }, [engine]);

  useEffect(() => {
    const offEvents = engine.on((event) => dispatch({ type: 'event', event }));
    const offState = engine.onState((conn) => {
      dispatch({ type: 'conn', conn });
      if (conn === 'ready') void reload();
    });
    // IPC is ready at once; a WebSocket may already be ready by now too.
    if (engine.state === 'ready') void reload();
    return () => {
      offEvents();
      offState();
    };
  }, [engine, reload]);

  // A finished enrollment (approval granted) changes what the app shows: load it all.
  const enrolled = state.status?.enrolled;
  const wasEnrolled = useRef(enrolled);
  useEffect(() => {
    if (wasEnrolled.current === false && enrolled) void reload();
    wasEnrolled.current = enrolled;
  }, [enrolled, reload]);

  const value = useMemo<AppContextValue>(
    () => ({ engine, state, dispatch, can: (t) => state.capabilities?.has(t) ?? false, reload }),
    [engine, state, reload],
  );
  return <Ctx.Provider value={value}>{children}</Ctx.Provider>;
}
