// Router dependencies for unit tests: one ClusterImageSetMirror `g` mirroring everything to
// harbor.example.com/m, and registries where docker.io has nothing and everything else answers.
import type { Mirror } from '#shared/crd/types.ts';
import { AvailabilityChecker } from './availability.ts';
import type { RouterDeps } from './decide.ts';

export function oneMirrorDeps(over: Partial<RouterDeps> = {}, mirror: Partial<Mirror> = {}): RouterDeps {
  return {
    config: {
      rewriteOnNeverImagePullPolicy: false,
      honorPrioritiesOnAlwaysImagePullPolicy: false,
      skip: () => false,
    },
    routingSet: () => ({
      cisms: [
        {
          apiVersion: 'kuik.enix.io/v1alpha1',
          kind: 'ClusterImageSetMirror',
          metadata: { name: 'g', uid: 'u' },
          spec: {
            filter: { include: [{ image: '.*' }] },
            mirrors: [{ registry: 'harbor.example.com', path: 'm', ...mirror }],
          },
        },
      ],
      isms: [],
      crises: [],
      riss: [],
    }),
    getSecret: async () => undefined,
    credentialsFor: () => [],
    checker: new AvailabilityChecker({
      ttlMs: 0,
      probe: async (i) =>
        i.domain === 'docker.io'
          ? { outcome: 'NotFound', message: 'image not found: nope' }
          : { outcome: 'Available', message: '' },
    }),
    upsertSecret: async () => {},
    staleMirror: () => {},
    ...over,
  };
}
