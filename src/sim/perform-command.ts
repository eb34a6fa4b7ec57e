import type { NodeEvent } from '../events/node-catalogue.js';
import { secs } from './invariants.js';
import type { ScenarioCommand, TimedAction } from './scenario.js';
import type { SimulationRun } from './simulation-run.js';
import { errorMessage } from './error-message.js';
import { restartNode } from './node-restart.js';

/**
 * The command interpreter: performs one command of a scenario's timed `actions` or its `script`
 * (the vocabulary the model-based property test shares). Resolves when a script may go on: after
 * a `load` is announced, an `advance` has passed, at once for the rest. Failures of node
 * operations go on the timeline.
 */
export function performCommand(run: SimulationRun, command: ScenarioCommand | TimedAction): Promise<void> {
  const { plan, node } = run;
  if (plan.companionMode && 'module' in command && plan.processModules.has(command.module)) {
    run.note(command.module, 'skipped', `skipped: ${command.do} ${command.module} (a process module; only with --real --time-scale 1)`);
    return Promise.resolve();
  }
  switch (command.do) {
    case 'load':
    case 'hotload': {
      const loading = run.load(command.module, plan.definitionOf(command), command.actor, command.do);
      // A load is waited for; a hotload happens while everything else goes on.
      return command.do === 'load' ? loading : Promise.resolve();
    }
    case 'subscribe': {
      const m = run.recorder.module(command.module);
      if (command.types.includes('ModuleLoaded')) m.subscribesLoaded = true;
      if (command.types.includes('ModuleUnloaded')) m.subscribesUnloaded = true;
      if (command.types.includes('NodeShutdown')) m.subscribesShutdown = true;
      run.note(command.module, 'subscribe', `subscribe ${command.module} to ${command.types.join(', ')}`);
      return run.settle('subscribe', command.module, node.events.subscribe(command.module, command.types));
    }
    case 'publish':
      for (let i = 0; i < command.count; i++) {
        try {
          if ('traffic' in command) for (const event of run.traffic.next(command.traffic)) run.publish(event);
          else run.publish({ ...command.event, payload: { ...command.event.payload } } as NodeEvent);
        } catch (error) {
          run.note(null, 'error', `publish failed: ${errorMessage(error)}`);
          break;
        }
      }
      return Promise.resolve();
    case 'slow':
      if (command.delayMs === undefined) {
        run.faults.hold(command.module);
        run.note(command.module, 'fault', `hold ${command.module}: every event it takes waits for a release`);
      } else {
        run.faults.slow(command.module, command.delayMs, command.forMs === undefined ? Number.POSITIVE_INFINITY : run.now() + command.forMs);
        run.note(command.module, 'fault', `slow ${command.module}: +${command.delayMs} ms per event${command.forMs === undefined ? '' : ` for ${command.forMs} ms`}`);
      }
      return Promise.resolve();
    case 'release':
      run.faults.release(command.module);
      run.note(command.module, 'fault', `release ${command.module}`);
      return Promise.resolve();
    case 'crash':
      run.faults.crash(command.module, `injected crash at ${secs(run.now())}`, command.on);
      run.note(command.module, 'fault', `crash ${command.module} on its next ${command.on ?? 'event'}`);
      return Promise.resolve();
    case 'restart': {
      run.recorder.module(command.module).loads.push({ t: run.now(), how: 'restart' });
      run.note(command.module, 'restart', `restart ${command.module}`);
      return run.settle('restart', command.module, node.reload(command.module));
    }
    case 'reload': {
      const m = run.recorder.module(command.module);
      const definition = plan.definitions.get(command);
      m.loads.push({ t: run.now(), how: 'reload' });
      run.note(command.module, 'reload', `reload ${command.module}${definition === undefined ? '' : ` as ${definition.version}`}`);
      if (definition !== undefined) {
        run.describe(command.module, definition, m.actor);
        if (run.loaded.has(command.module)) run.loaded.set(command.module, { definition, actor: m.actor });
      }
      return run.settle('reload', command.module, node.reload(command.module, definition === undefined ? undefined : run.prepared(command.module, definition)));
    }
    case 'unload':
      run.loaded.delete(command.module);
      run.note(command.module, 'unload', `unload ${command.module}`);
      return run.settle('unload', command.module, node.unload(command.module));
    case 'advance':
      return new Promise((resolve) => {
        run.after(command.ms, resolve);
      });
    case 'restart-node':
      return restartNode(run, command.how ?? 'crash');
    case 'flush':
      run.note(null, 'flush', 'flush the node store');
      return run.durability === null ? Promise.resolve() : run.settle('flush', 'node', run.durability.flush(run.node));
  }
}
