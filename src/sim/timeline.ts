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
   * Give-ups seen and not told yet: a give-up is observed (a `failed` inspection event) before the
   * lifecycle events that follow from it; the timeline tells it after them, right after the module
   * turns unhealthy.
   */
  private readonly gaveUp = new Map<string, { readonly detail: string; readonly started: boolean }>();
  /** Modules that crashed and were not announced since: their next ModuleLoaded is a restart. */
  private readonly crashed = new Set<string>();
  /** Restarts after a crash so far, per module. */
  private readonly restarts = new Map<string, number>();

  /** Something the simulator did, or an error of a command. */
  note(t: number, module: string | null, kind: string, text: string): void {
    this.entries.push({ t, module, kind, text });
  }

  /** The trace recorder's hooks that feed the timeline. */
  readonly hooks: TraceHooks = {
    onLifecycle: (t, type, payload) => {
      const module = String(payload.moduleName);
      if (type === 'ModuleLoaded' && this.crashed.delete(module)) {
        const n = (this.restarts.get(module) ?? 0) + 1;
        this.restarts.set(module, n);
        this.note(t, module, 'restarted', `restarted ${module} ${String(payload.version)} after its crash (restart ${n})`);
      } else {
        const entry = lifecycleEntry(t, type, payload);
        if (entry !== null) this.entries.push(entry);
      }
      if (type === 'ModuleCrashed') this.crashed.add(module);
      const gaveUp = this.gaveUp.get(module);
      if (type === 'ModuleHealthChanged' && payload.newHealth === 'unhealthy' && gaveUp !== undefined) {
        this.gaveUp.delete(module);
        this.crashed.delete(module);
        if (gaveUp.started) this.note(t, module, 'gave-up', `gave up ${module}: ${gaveUp.detail}`);
        else this.note(t, module, 'did-not-start', `did not start ${module}: ${gaveUp.detail}`);
      }
    },
    onGaveUp: (_t, module, { detail, last, restarts, started }) => {
      // A module that never started: its first start failed (the node does not retry it).
      const tries = restarts === 0 ? '' : ` (tried ${restarts + 1} times)`;
      const text = started ? detail.replace(/\(last: /, '(last crash: ') : `its startup failed: ${last}${tries}`;
      this.gaveUp.set(module, { detail: text, started });
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
    case 'NodeStartupCompleted': {
      const components = Array.isArray(payload.components) ? payload.components.filter((c) => c !== RECORDER_NAME && c !== BRIDGE_NAME) : [];
      return { t, module: null, kind: 'started', text: `NodeStartupCompleted (${components.length} module${components.length === 1 ? '' : 's'} loaded)` };
    }
    case 'NodeShutdown':
      return { t, module: null, kind: 'shutdown', text: `NodeShutdown (${s('reason')}, ${s('timeoutSeconds')} s to stop)` };
    default:
      return null;
  }
}
