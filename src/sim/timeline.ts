import type { TimelineEntry } from './report.js';
import { BRIDGE_NAME, RECORDER_NAME } from './scenario.js';
import type { TraceHooks } from './trace.js';

/**
 * The report's timeline: the lifecycle events the recorder module witnesses, in publish order,
 * and what the simulator did (faults, commands, the shutdown), each at its virtual time.
 */
export class Timeline {
  readonly entries: TimelineEntry[] = [];
  /**
   * Give-ups seen and not told yet: a give-up is observed (at the module's host) before the
   * lifecycle events that follow from it; the timeline tells it after them, right after the module
   * turns unhealthy.
   */
  private readonly gaveUp = new Map<string, string>();

  /** Something the simulator did, or an error of a command. */
  note(t: number, module: string | null, kind: string, text: string): void {
    this.entries.push({ t, module, kind, text });
  }

  /** The trace recorder's hooks that feed the timeline. */
  readonly hooks: TraceHooks = {
    onLifecycle: (t, type, payload) => {
      const entry = lifecycleEntry(t, type, payload);
      if (entry !== null) this.entries.push(entry);
      const module = String(payload.moduleName);
      const detail = this.gaveUp.get(module);
      if (type === 'ModuleHealthChanged' && payload.newHealth === 'unhealthy' && detail !== undefined) {
        this.gaveUp.delete(module);
        this.note(t, module, 'gave-up', `gave up ${module}: ${detail}`);
      }
    },
    onGaveUp: (_t, module, detail) => {
      this.gaveUp.set(module, detail.replace(/\(last: instance: /, '(last crash: '));
    },
  };
}

/** The timeline line of a lifecycle event, or null for the ones left out (and the simulator's own). */
function lifecycleEntry(t: number, type: string, payload: Readonly<Record<string, unknown>>): TimelineEntry | null {
  const module = typeof payload.moduleName === 'string' ? payload.moduleName : null;
  if (module === RECORDER_NAME || module === BRIDGE_NAME) return null;
  const s = (key: string): string => String(payload[key]);
  switch (type) {
    case 'ModuleLoaded':
      return { t, module, kind: 'loaded', text: `loaded ${s('moduleName')} ${s('version')}` };
    case 'ModuleUnloaded':
      return { t, module, kind: 'unloaded', text: `unloaded ${s('moduleName')}` };
    case 'ModuleReloaded':
      return { t, module, kind: 'reloaded', text: `reloaded ${s('moduleName')} ${s('oldVersion')} -> ${s('newVersion')}` };
    case 'ModuleCrashed':
      return { t, module, kind: 'crashed', text: `crashed ${s('moduleName')}: ${s('error')}` };
    case 'ModuleHealthChanged':
      return { t, module, kind: 'health', text: `health ${s('moduleName')}: ${s('oldHealth')} -> ${s('newHealth')}` };
    case 'NodeShutdown':
      return { t, module: null, kind: 'shutdown', text: `NodeShutdown (${s('reason')}, ${s('timeoutSeconds')} s to stop)` };
    default:
      return null;
  }
}
