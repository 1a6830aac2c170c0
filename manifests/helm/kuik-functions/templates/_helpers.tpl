{{/* Labels of every object: the three app.kubernetes.io keys kustomize renders, plus Helm's own.
Call with (dict "root" $ "component" "router"). */}}
{{- define "kuik.labels" -}}
app.kubernetes.io/name: kuik-functions
app.kubernetes.io/part-of: kube-image-keeper
app.kubernetes.io/component: {{ .component }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
helm.sh/chart: {{ printf "%s-%s" .root.Chart.Name .root.Chart.Version }}
{{- end }}

{{/* A Deployment's selector: stable across upgrades, so no version or chart label. */}}
{{- define "kuik.selector" -}}
app.kubernetes.io/name: kuik-functions
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{- define "kuik.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end }}

{{/* Restarts pods (and makes new Knative revisions) when the configuration changes: functions
read it only at start. */}}
{{- define "kuik.configChecksum" -}}
checksum/config: {{ include (print .Template.BasePath "/config.yaml") . | sha256sum }}
{{- end }}

{{/* Container hardening. Knative accepts these at container level only (a pod securityContext
needs its kubernetes.podspec-securitycontext flag), so the user is set here too. */}}
{{- define "kuik.containerSecurityContext" -}}
securityContext:
  runAsNonRoot: true
  {{- if .withUser }}
  runAsUser: 65532
  runAsGroup: 65532
  {{- end }}
  readOnlyRootFilesystem: true
  allowPrivilegeEscalation: false
  capabilities:
    drop: [ALL]
  seccompProfile:
    type: RuntimeDefault
{{- end }}

{{- define "kuik.podSecurityContext" -}}
securityContext:
  runAsNonRoot: true
  runAsUser: 65532
  runAsGroup: 65532
  seccompProfile:
    type: RuntimeDefault
{{- end }}

{{- define "kuik.env" -}}
- name: KUIK_FUNCTION
  value: {{ .function }}
- name: LOG_LEVEL
  value: {{ .root.Values.logLevel }}
{{- $p := .root.Values.metrics.push }}
{{- if and $p.enabled (ne .function "router") }}
{{- /* docs/metrics.md: the scale-to-zero functions push their counters to the router. */}}
- name: KUIK_METRICS_PUSH_URL
  value: http://kuik-router.{{ .root.Release.Namespace }}.svc.cluster.local:8080/metrics/push
- name: KUIK_METRICS_PUSH_INTERVAL_MS
  value: {{ mul (int $p.intervalSeconds) 1000 | quote }}
{{- end }}
{{- $s := .root.Values.security }}
{{- if and $s.senderAuth.enabled (ne .function "router") }}
{{- /* docs/security.md: each function's audience is its own name. */}}
- name: KUIK_SENDER_AUDIENCE
  value: kuik-{{ .function }}
- name: KUIK_SENDER_IDENTITIES
  value: {{ $s.senderAuth.identities | default (printf "system:serviceaccount:%s:*" .root.Release.Namespace) | quote }}
{{- end }}
{{- if $s.metricsAuth.enabled }}
- name: KUIK_METRICS_AUTH
  value: "true"
{{- end }}
{{- end }}

{{/* With sender authentication on and the copy as a Knative Service, reconcile and the monitor
present a ServiceAccount token for the copy's audience (the JobSink checks its own senders). */}}
{{- define "kuik.copyTokenOn" -}}
{{- if and .Values.security.senderAuth.enabled (eq .Values.copy.sink "service") }}true{{ end }}
{{- end }}

{{- define "kuik.copyTokenEnv" -}}
{{- if include "kuik.copyTokenOn" . }}
- name: COPY_SINK_TOKEN_FILE
  value: /var/run/secrets/kuik/copy/token
{{- end }}
{{- end }}

{{- define "kuik.copyTokenMount" -}}
{{- if include "kuik.copyTokenOn" . }}
- name: copy-token
  mountPath: /var/run/secrets/kuik/copy
  readOnly: true
{{- end }}
{{- end }}

{{- define "kuik.copyTokenVolume" -}}
{{- if include "kuik.copyTokenOn" . }}
- name: copy-token
  projected:
    sources:
      - serviceAccountToken:
          audience: kuik-copy
          expirationSeconds: 3600
          path: token
{{- end }}
{{- end }}

{{/* The audience a source asks its OIDC token for (Knative Services publish none). */}}
{{- define "kuik.sinkAudience" -}}
{{- if .root.Values.security.senderAuth.enabled }}
audience: kuik-{{ .function }}
{{- end }}
{{- end }}

{{- define "kuik.copySink" -}}
{{- if eq .Values.copy.sink "job" -}}
http://job-sink.{{ .Values.copy.knativeEventingNamespace }}.svc.cluster.local/{{ .Release.Namespace }}/kuik-copy
{{- else if eq .Values.copy.sink "service" -}}
http://kuik-copy.{{ .Release.Namespace }}.svc.cluster.local
{{- else -}}
{{- fail (printf "copy.sink must be job or service, got %q" .Values.copy.sink) -}}
{{- end -}}
{{- end }}

{{- define "kuik.configVolume" -}}
volumes:
  - name: config
    configMap:
      name: kuik-config
{{- end }}

{{- define "kuik.configMount" -}}
- name: config
  mountPath: /etc/kube-image-keeper
  readOnly: true
{{- end }}

{{/* docs/copy.md: a small young generation and one malloc arena keep a streaming copy's memory
flat. */}}
{{- define "kuik.copyRuntimeEnv" -}}
- name: NODE_OPTIONS
  value: --max-semi-space-size=1
- name: MALLOC_ARENA_MAX
  value: "1"
{{- end }}
