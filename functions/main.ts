// One image, four functions: KUIK_FUNCTION selects which one this process is (ARCHITECTURE.md).
// Configuration errors stop the process at start with a message naming the key.
import { DEFAULT_CONFIG_PATH, loadConfig } from '#shared/config/config.ts';
import { loadKubeConfig } from '#shared/kube/client.ts';
import { createLogger } from '#shared/log.ts';
import { routerEnv, runRouter } from './router/main.ts';

const FUNCTIONS = ['router', 'reconcile', 'monitor', 'copy'] as const;
type FunctionName = (typeof FUNCTIONS)[number];

const name = process.env['KUIK_FUNCTION'] as FunctionName | undefined;
if (!name || !FUNCTIONS.includes(name)) {
  console.error(`KUIK_FUNCTION must be one of ${FUNCTIONS.join(', ')} (got ${JSON.stringify(name ?? '')})`);
  process.exit(2);
}
const log = createLogger(name);
const configPath = process.env['KUIK_CONFIG'] ?? DEFAULT_CONFIG_PATH;
const loaded = await loadConfig(configPath);
if (!loaded.ok) {
  log.fatal({ config: configPath, key: loaded.error.key }, `invalid configuration: ${loaded.error.message}`);
  process.exit(1);
}
const config = loaded.value.config;
// A typo in the configuration is ignored (its default applies) but must be visible: one line each,
// in the form docs/configuration.md tells operators to grep for.
for (const warning of loaded.value.warnings) log.warn({ config: configPath }, `config warning: ${warning}`);
const kc = loadKubeConfig();

let stop: () => Promise<void>;
switch (name) {
  case 'router': {
    const r = await runRouter(config, routerEnv(process.env), kc, log);
    stop = r.stop;
    break;
  }
  default: {
    const { start } = await import(`./${name}/main.ts`);
    const r = await start(config, process.env, kc, log);
    stop = r.stop;
  }
}

let stopping = false;
for (const sig of ['SIGTERM', 'SIGINT'] as const) {
  process.on(sig, () => {
    if (stopping) return;
    stopping = true;
    log.info({ signal: sig }, 'stopping');
    void stop().finally(() => process.exit(0));
  });
}
