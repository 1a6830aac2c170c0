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

{{/* The router pods' own annotations: the config checksum, and prometheus.io/* for a plain
Prometheus (metrics.podAnnotations). */}}
{{- define "kuik.routerAnnotations" -}}
{{ include "kuik.configChecksum" . }}
{{- if .Values.metrics.podAnnotations }}
prometheus.io/scrape: "true"
prometheus.io/port: "8080"
prometheus.io/path: /metrics
{{- end }}
{{- end }}

{{/* Container hardening, unless <workload>.securityContext replaces it (non-empty: used as given).
Knative accepts these at container level only (a pod securityContext needs its
kubernetes.podspec-securitycontext flag), so the Knative Services set the user here too. Call with
(dict "ctx" $p.securityContext "withUser" true). */}}
{{- define "kuik.containerSecurityContext" -}}
securityContext:
  {{- if .ctx }}
  {{- toYaml .ctx | nindent 2 }}
  {{- else }}
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
{{- end }}

{{/* The pod's context for the router and the copy's Jobs, unless <workload>.podSecurityContext
replaces it. Call with (dict "ctx" $p.podSecurityContext). */}}
{{- define "kuik.podSecurityContext" -}}
securityContext:
  {{- if .ctx }}
  {{- toYaml .ctx | nindent 2 }}
  {{- else }}
  runAsNonRoot: true
  runAsUser: 65532
  runAsGroup: 65532
  seccompProfile:
    type: RuntimeDefault
  {{- end }}
{{- end }}

{{/* A workload's pod settings, as YAML (read it with fromYaml): one place resolves the shared
values, the workload's own and, for the router, kuik v2's manager.* keys (templates/_legacy.tpl).
Call with (dict "root" $ "w" "router"|"reconcile"|"monitor"|"copy"). Keys left out are unset. */}}
{{- define "kuik.pod" -}}
{{- $V := .root.Values -}}
{{- $w := index $V .w -}}
{{- $m := dict -}}
{{- if eq .w "router" }}{{ $m = $V.manager | default dict }}{{ end -}}
{{- $out := dict -}}
{{- /* kuik v2's manager was one pod for everything: its pull secrets and annotations are every
function's (they pull the same image; mesh or secret injectors annotate every pod). */ -}}
{{- $legacy := $V.manager | default dict -}}
{{- range $k := list "imagePullSecrets" "podAnnotations" -}}
{{- $new := index $V $k -}}
{{- $old := index $legacy $k -}}
{{- if and $new $old }}{{ fail (printf "%s and manager.%s are both set: keep only %s" $k $k $k) }}{{ end -}}
{{- $_ := set $out $k ($new | default $old) -}}
{{- end -}}
{{- /* Labels and annotations: the shared ones, the workload's over them. */ -}}
{{- $_ := set $out "podLabels" (merge (deepCopy ($w.podLabels | default dict)) (deepCopy ($V.podLabels | default dict))) -}}
{{- $_ := set $out "podAnnotations" (merge (deepCopy ($w.podAnnotations | default dict)) (deepCopy ($out.podAnnotations | default dict))) -}}
{{- range $k := list "nodeSelector" "tolerations" "affinity" "topologySpreadConstraints" "priorityClassName" "podSecurityContext" "securityContext" "deploymentStrategy" -}}
{{- $own := index $w $k -}}
{{- $old := index $m $k -}}
{{- if and $own $old }}{{ fail (printf "%s.%s and manager.%s are both set: keep only %s.%s" $.w $k $k $.w $k) }}{{ end -}}
{{- with ($own | default $old) }}{{ $_ := set $out $k . }}{{ end -}}
{{- end -}}
{{- /* kuik v2's probes point at its manager's health port (8081), which the router does not
have: only their timing carries over, onto the router's own probes. */ -}}
{{- range $k := list "readinessProbe" "livenessProbe" -}}
{{- $p := deepCopy (index $w $k | default dict) -}}
{{- /* Key by key (mergeOverwrite would skip a 0 or a false). */ -}}
{{- if $p }}{{ range $f, $v := omit (index $m $k | default dict) "httpGet" "tcpSocket" "exec" "grpc" }}{{ $_ := set $p $f $v }}{{ end }}{{ end -}}
{{- with $p }}{{ $_ := set $out $k . }}{{ end -}}
{{- end -}}
{{- /* The router's PodDisruptionBudget: kuik v2's manager.pdb keys over the router's. */ -}}
{{- if $w.pdb }}
{{- $pdb := deepCopy $w.pdb -}}
{{- range $k, $v := ($m.pdb | default dict) }}{{ $_ := set $pdb $k $v }}{{ end -}}
{{- $_ := set $out "pdb" $pdb -}}
{{- end -}}
{{- toYaml $out -}}
{{- end }}

{{/* A pod template's labels and annotations: the chart's own, then the values' (a value may not
change one of the chart's: the selectors, the config checksum and the autoscaling annotations
depend on them). Call with (dict "w" "router" "pod" $p "labels" <text> "annotations" <text>). */}}
{{- define "kuik.podMeta" -}}
{{- $ownLabels := .labels | fromYaml -}}
{{- $ownAnnotations := .annotations | fromYaml -}}
{{- range $k, $_ := .pod.podLabels }}{{ if hasKey $ownLabels $k }}{{ fail (printf "podLabels of %s set %s, a label the chart sets itself" $.w $k) }}{{ end }}{{ end -}}
{{- range $k, $_ := .pod.podAnnotations }}{{ if hasKey $ownAnnotations $k }}{{ fail (printf "podAnnotations of %s set %s, an annotation the chart sets itself (use the chart's value for it)" $.w $k) }}{{ end }}{{ end -}}
labels:
  {{- .labels | nindent 2 }}
  {{- with .pod.podLabels }}
  {{- toYaml . | nindent 2 }}
  {{- end }}
annotations:
  {{- .annotations | nindent 2 }}
  {{- with .pod.podAnnotations }}
  {{- toYaml . | nindent 2 }}
  {{- end }}
{{- end }}

{{/* The ServiceAccount a function runs as: its own serviceAccount.name, else the shared
serviceAccount.name (kuik v2's single identity), else kuik-<function>. Call with
(dict "root" $ "fn" "router"|"reconcile"|"reconcile-source"|"monitor"|"copy"). */}}
{{- define "kuik.serviceAccountName" -}}
{{- $own := include "kuik.serviceAccountValues" . | fromYaml -}}
{{- $own.name | default .root.Values.serviceAccount.name | default (printf "kuik-%s" .fn) -}}
{{- end }}

{{- define "kuik.serviceAccountValues" -}}
{{- if eq .fn "reconcile-source" -}}
{{- toYaml (.root.Values.reconcile.source.serviceAccount | default dict) -}}
{{- else -}}
{{- toYaml ((index .root.Values .fn).serviceAccount | default dict) -}}
{{- end -}}
{{- end }}

{{/* One function's ServiceAccount, unless serviceAccount.create is false or another function
already made the same name (a shared serviceAccount.name is made once). Call with
(dict "root" $ "fn" "router" "component" "router" "made" $made). */}}
{{- define "kuik.serviceAccount" -}}
{{- $V := .root.Values -}}
{{- $name := include "kuik.serviceAccountName" . -}}
{{- if and $V.serviceAccount.create (not (hasKey .made $name)) -}}
{{- $_ := set .made $name true -}}
{{- $own := include "kuik.serviceAccountValues" . | fromYaml -}}
{{- $annotations := merge (deepCopy ($own.annotations | default dict)) (deepCopy ($V.serviceAccount.annotations | default dict)) -}}
apiVersion: v1
kind: ServiceAccount
metadata:
  name: {{ $name }}
  namespace: {{ .root.Release.Namespace }}
  labels:
    {{- include "kuik.labels" (dict "root" .root "component" .component) | nindent 4 }}
    {{- with $V.serviceAccount.extraLabels }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
  {{- with $annotations }}
  annotations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
---
{{ end -}}
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
{{- if and $s.senderAuth.enabled (ne .function "router") (not .job) }}
{{- /* docs/security.md: each function's audience is its own name (a JobSink Job reads its
event from a file: nobody sends it anything). */}}
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

{{/* With sender authentication on, reconcile presents a ServiceAccount token for
the copy sink's audience: the copy Service's own (kuik-copy), or the JobSink's, which Knative
Eventing derives from the JobSink (group/kind/namespace/name, lower case) and checks itself. */}}
{{- define "kuik.copyTokenOn" -}}
{{- if .Values.security.senderAuth.enabled }}true{{ end }}
{{- end }}

{{- define "kuik.copyAudience" -}}
{{- if eq .Values.copy.sink "job" -}}
sinks.knative.dev/jobsink/{{ .Release.Namespace }}/kuik-copy
{{- else -}}
kuik-copy
{{- end -}}
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
          audience: {{ include "kuik.copyAudience" . }}
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

{{/* A Knative Service's pod settings: "kuik.pod", except that the kuik-copy Service gets none of
the flagged fields while copy.sink is job. It is unused then, and copy's scheduling values are
for its Jobs: pinning the Jobs must not need Knative's flags. */}}
{{- define "kuik.knativePod" -}}
{{- $p := include "kuik.pod" . | fromYaml -}}
{{- if and (eq .w "copy") (ne .root.Values.copy.sink "service") -}}
{{- $p = omit $p "nodeSelector" "tolerations" "affinity" "topologySpreadConstraints" "priorityClassName" "podSecurityContext" -}}
{{- end -}}
{{- toYaml $p -}}
{{- end }}

{{/* Pull secrets and scheduling of a Knative Service's or a Job's pod, each only when set: on a
Knative Service each of these but imagePullSecrets needs its feature flag in Knative Serving's
config-features (kubernetes.podspec-priorityclassname, -nodeselector, -tolerations, -affinity,
-topologyspreadconstraints; docs/install.md), and Knative's webhook refuses the Service without
it. Call with (dict "pod" $p). */}}
{{- define "kuik.podScheduling" -}}
{{- with .pod.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .pod.priorityClassName }}
priorityClassName: {{ . }}
{{- end }}
{{- with .pod.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .pod.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .pod.affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .pod.topologySpreadConstraints }}
topologySpreadConstraints:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end }}

{{/* A Knative Service's probes (the functions serve /readyz and /healthz on their one port;
Knative wants a probe's port unset or that port's name). */}}
{{- define "kuik.knativeProbes" -}}
{{- with .pod.readinessProbe }}
readinessProbe:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .pod.livenessProbe }}
livenessProbe:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end }}

{{/* A Knative Service's revision annotations: the config checksum and the autoscaling bounds of
(dict "root" $ "s" <values with minScale, maxScale, and maybe target, scaleDownDelay>). */}}
{{- define "kuik.knativeAnnotations" -}}
{{ include "kuik.configChecksum" .root }}
autoscaling.knative.dev/min-scale: {{ .s.minScale | quote }}
autoscaling.knative.dev/max-scale: {{ .s.maxScale | quote }}
{{- with .s.target }}
autoscaling.knative.dev/target: {{ . | quote }}
{{- end }}
{{- with .s.scaleDownDelay }}
autoscaling.knative.dev/scale-down-delay: {{ . }}
{{- end }}
{{- end }}

{{/* The Knative Serving feature flags the values need (for NOTES.txt), one per line: the Knative
Services' flagged pod fields are rendered only when set, and Knative's webhook refuses a Service
whose flag is off. */}}
{{- define "kuik.knativeFlags" -}}
{{- $flags := dict "nodeSelector" "kubernetes.podspec-nodeselector" "tolerations" "kubernetes.podspec-tolerations" "affinity" "kubernetes.podspec-affinity" "topologySpreadConstraints" "kubernetes.podspec-topologyspreadconstraints" "priorityClassName" "kubernetes.podspec-priorityclassname" "podSecurityContext" "kubernetes.podspec-securitycontext" -}}
{{- $need := dict -}}
{{- range $w := list "reconcile" "monitor" "copy" -}}
{{- $p := include "kuik.knativePod" (dict "root" $ "w" $w) | fromYaml -}}
{{- range $k, $flag := $flags }}{{ if index $p $k }}{{ $_ := set $need $flag (append (index $need $flag | default list) (printf "%s.%s" $w $k)) }}{{ end }}{{ end -}}
{{- end -}}
{{- range $flag, $keys := $need }}
{{ $flag }}: enabled  (for {{ join ", " $keys }})
{{- end -}}
{{- end }}
