// Every spec and status field of kuik v2's CRDs (kube-image-keeper at db2d839, config/crd/bases), as
// `path:type`. A kuik v2 user's YAML must apply unchanged to our CRDs, so schemas.test.ts checks that
// each of these still exists in crds/*.yaml with the same type. Test data only.
import type { KuikKind } from './types.ts';

const imageFilter = (p: string) => [
  `${p}:object`,
  `${p}.include:array`,
  `${p}.include[]:string`,
  `${p}.exclude:array`,
  `${p}.exclude[]:string`,
];

const filter = (p: string, cluster: boolean) =>
  [`${p}:object`].concat(
    ...['include', 'exclude'].map((list) => [
      `${p}.${list}:array`,
      `${p}.${list}[]:object`,
      `${p}.${list}[].image:string`,
      `${p}.${list}[].label:string`,
      `${p}.${list}[].annotation:string`,
      ...(cluster ? [`${p}.${list}[].namespace:string`] : []),
    ]),
  );

const secret = (p: string) => [`${p}:object`, `${p}.name:string`, `${p}.namespace:string`];
const cleanup = (p: string) => [`${p}:object`, `${p}.enabled:boolean`, `${p}.retention:string`];

const mirrorSpec = (cluster: boolean) => [
  'spec:object',
  'spec.priority:integer',
  ...imageFilter('spec.imageFilter'),
  ...filter('spec.filter', cluster),
  ...cleanup('spec.cleanup'),
  'spec.mirrors:array',
  'spec.mirrors[]:object',
  'spec.mirrors[].registry:string',
  'spec.mirrors[].path:string',
  'spec.mirrors[].priority:integer',
  ...secret('spec.mirrors[].credentialSecret'),
  ...cleanup('spec.mirrors[].cleanup'),
];

const mirrorStatus = [
  'status:object',
  'status.matchingImages:array',
  'status.matchingImages[]:object',
  'status.matchingImages[].image:string',
  'status.matchingImages[].unusedSince:string',
  'status.matchingImages[].mirrors:array',
  'status.matchingImages[].mirrors[]:object',
  'status.matchingImages[].mirrors[].image:string',
  'status.matchingImages[].mirrors[].mirroredAt:string',
  'status.matchingImages[].mirrors[].lastError:string',
];

const replicatedSpec = (cluster: boolean) => [
  'spec:object',
  'spec.priority:integer',
  ...filter('spec.filter', cluster),
  'spec.upstreams:array',
  'spec.upstreams[]:object',
  'spec.upstreams[].registry:string',
  'spec.upstreams[].path:string',
  'spec.upstreams[].priority:integer',
  'spec.upstreams[].discardAlternative:boolean',
  ...imageFilter('spec.upstreams[].imageFilter'),
  ...secret('spec.upstreams[].credentialSecret'),
  'status:object',
];

export const KUIK_V2_FIELDS: Record<KuikKind, string[]> = {
  ImageSetMirror: [...mirrorSpec(false), ...mirrorStatus],
  ClusterImageSetMirror: [...mirrorSpec(true), ...mirrorStatus],
  ReplicatedImageSet: replicatedSpec(false),
  ClusterReplicatedImageSet: replicatedSpec(true),
  ClusterImageSetAvailability: [
    'spec:object',
    'spec.unusedImageExpiry:string',
    ...imageFilter('spec.imageFilter'),
    ...filter('spec.filter', true),
    'status:object',
    'status.imageCount:integer',
    'status.images:array',
    'status.images[]:object',
    'status.images[].image:string',
    'status.images[].status:string',
    'status.images[].unusedSince:string',
    'status.images[].lastError:string',
    'status.images[].lastMonitor:string',
    'status.images[].original:boolean',
  ],
};
