{{/* kuik v2's chart values (docs/migrating-from-kuik.md). Some carry over, deprecated, with a note
in NOTES.txt: `configuration` (kuik's config file, the same keys as `config`), the webhook's
namespaceSelector (`manager.webhook.namespaceSelector`, or `webhookConfiguration.namespaceSelector`
in kuik v2.2.0), and the manager pod's settings (`manager.nodeSelector`, `.affinity`, `.pdb`, …:
kuik's one pod is the router here, except imagePullSecrets and podAnnotations, which every
workload gets; templates/_helpers.tpl "kuik.pod" reads them). `rbac.create` and `serviceAccount.*`
are this chart's own keys, with kuik's meaning. Every other kuik v2 key is refused with the key to
use instead: before this, a kuik values file rendered with exit 0 and lost its settings (the
webhook then covered every namespace). values.schema.json declares these keys so that the refusal
can name the new key. */}}

{{/* The operator configuration: kuik's `configuration` with `config` over it, key by key. */}}
{{- define "kuik.config" -}}
{{- $legacy := deepCopy (.Values.configuration | default dict) -}}
{{- toYaml (mergeOverwrite $legacy (deepCopy (.Values.config | default dict))) -}}
{{- end }}

{{/* The webhook's namespaceSelector, from wherever it was given (only one place may set it). */}}
{{- define "kuik.namespaceSelector" -}}
{{- $found := dict -}}
{{- with .Values.router.webhook.namespaceSelector }}{{ $_ := set $found "router.webhook.namespaceSelector" . }}{{ end -}}
{{- with (.Values.manager | default dict).webhook }}{{ with .namespaceSelector }}{{ $_ := set $found "manager.webhook.namespaceSelector" . }}{{ end }}{{ end -}}
{{- with .Values.webhookConfiguration }}{{ with .namespaceSelector }}{{ $_ := set $found "webhookConfiguration.namespaceSelector" . }}{{ end }}{{ end -}}
{{- if gt (len $found) 1 -}}
{{- fail (printf "the webhook's namespaceSelector is set in %s: keep only router.webhook.namespaceSelector" (keys $found | sortAlpha | join " and ")) -}}
{{- end -}}
{{- range $found }}{{ toYaml . }}{{ end -}}
{{- end }}

{{/* The kuik v2 keys in use that carry over (for NOTES.txt), one per line. */}}
{{- define "kuik.deprecatedValues" -}}
{{- if .Values.configuration }}
configuration: mapped to config (rename it; config wins where both set a key)
{{- end }}
{{- with (.Values.manager | default dict).webhook }}{{ if .namespaceSelector }}
manager.webhook.namespaceSelector: mapped to router.webhook.namespaceSelector (rename it)
{{- end }}{{ end }}
{{- with .Values.webhookConfiguration }}{{ if .namespaceSelector }}
webhookConfiguration.namespaceSelector: mapped to router.webhook.namespaceSelector (rename it)
{{- end }}{{ end }}
{{- $m := .Values.manager | default dict }}
{{- range $k := list "imagePullSecrets" "podAnnotations" }}{{ if index $m $k }}
manager.{{ $k }}: mapped to {{ $k }}, for every workload (rename it)
{{- end }}{{ end }}
{{- range $k := list "nodeSelector" "tolerations" "affinity" "topologySpreadConstraints" "priorityClassName" "podSecurityContext" "securityContext" "deploymentStrategy" }}{{ if index $m $k }}
manager.{{ $k }}: mapped to router.{{ $k }} (rename it)
{{- end }}{{ end }}
{{- if $m.pdb }}
manager.pdb: mapped to router.pdb (rename it; kuik's keys win over the router's)
{{- end }}
{{- range $k := list "readinessProbe" "livenessProbe" }}{{ if index $m $k }}
manager.{{ $k }}: its timing mapped to router.{{ $k }} (kuik's port 8081 is the router's port http)
{{- end }}{{ end }}
{{- end }}

{{/* Fails on every kuik v2 key that does not carry over, naming what to use instead. */}}
{{- define "kuik.refuseLegacyValues" -}}
{{- $problems := list -}}
{{- $m := .Values.manager | default dict -}}
{{- $moved := dict
  "replicas" "router.replicas"
  "image" "image.repository, image.tag, image.pullPolicy (kuik-functions' own image)"
  "verbosity" "logLevel (info, debug, …)"
  "env" "extraEnv (every function)"
  "resources" "router.resources, reconcile.resources, monitor.resources, copy.resources (sizes differ: values.yaml)"
  "serviceMonitor" "serviceMonitor.enabled (or podMonitor.enabled; docs/install.md, Scraping)"
-}}
{{- range $k, $new := $moved }}{{ if hasKey $m $k }}{{ $problems = append $problems (printf "manager.%s: use %s" $k $new) }}{{ end }}{{ end -}}
{{- with $m.webhook }}
{{- range $k := list "createCertificateIssuer" "certificateIssuerRef" }}{{ if hasKey $.Values.manager.webhook $k }}{{ $problems = append $problems (printf "manager.webhook.%s: use router.certManager.issuerRef (empty: a self-signed Issuer is made)" $k) }}{{ end }}{{ end -}}
{{- end -}}
{{- $top := dict
  "unusedImageTTL" "spec.cleanup.retention on the mirror CRs"
  "nameOverride" "nothing: object names are fixed (kuik-router, kuik-reconcile, …)"
  "fullnameOverride" "nothing: object names are fixed (kuik-router, kuik-reconcile, …)"
-}}
{{- range $k, $new := $top }}{{ if hasKey $.Values $k }}{{ $problems = append $problems (printf "%s: use %s" $k $new) }}{{ end }}{{ end -}}
{{- if $problems -}}
{{- fail (printf "kuik v2 values this chart does not take (docs/migrating-from-kuik.md); remove or rename them:\n  %s" (join "\n  " $problems)) -}}
{{- end -}}
{{- end }}
