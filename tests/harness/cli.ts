// `npm run harness`: starts the real parts for a person to explore with kubectl and skopeo, prints
// how to reach them, and stops everything on Ctrl-C.
import { startHarness } from './start.ts';

const h = await startHarness();
const s = h.state;
const { tls, token } = s.registries;
console.log(`
kuik-functions test harness is up (${h.timings['ready']} ms).

  export KUBECONFIG=${s.kubeconfig}
  ${s.bins.kubectl} get crds

  kube-apiserver  ${s.apiserver.url}
  registry (TLS + htpasswd)      ${tls.host}  user ${tls.username} / ${tls.password}
  registry (TLS + bearer token)  ${token.host}  user ${token.username} / ${token.password}  token realm ${token.tokenRealm}
  registry CA     ${tls.caFile}   (skopeo: --cert-dir ${tls.certDir})
  logs            ${s.runDir}/logs

Ctrl-C stops everything.`);

let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  console.log('\nstopping...');
  await h.stop();
  process.exit(0);
};
process.on('SIGINT', () => void stop());
process.on('SIGTERM', () => void stop());
// Keep the process (and the in-process token server) alive until a signal arrives.
setInterval(() => {}, 1 << 30);
