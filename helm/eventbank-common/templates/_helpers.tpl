{{/*
Names, labels and the image reference.

Most helpers take a dict: (dict "root" $ "component" "processor").
*/}}

{{- define "eventbank.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "eventbank.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* Name of one workload: the fullname, or "<fullname>-<component>" when the
chart runs several (account-command: api and processor). */}}
{{- define "eventbank.workloadName" -}}
{{- $root := .root -}}
{{- if .suffix -}}
{{- printf "%s-%s" (include "eventbank.fullname" $root | trunc 52 | trimSuffix "-") .component | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- include "eventbank.fullname" $root -}}
{{- end -}}
{{- end -}}

{{- define "eventbank.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Selector labels: immutable on a Deployment/StatefulSet, so only name,
instance and component (two workloads share one release in account-command). */}}
{{- define "eventbank.selectorLabels" -}}
app.kubernetes.io/name: {{ include "eventbank.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "eventbank.labels" -}}
helm.sh/chart: {{ include "eventbank.chart" .root }}
{{ include "eventbank.selectorLabels" . }}
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
app.kubernetes.io/part-of: eventbank
{{- with .root.Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{- define "eventbank.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "eventbank.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* registry/repository:tag[@digest]; the tag defaults to the chart's appVersion
(the release process keeps crate version, appVersion and image tag equal). */}}
{{- define "eventbank.image" -}}
{{- $global := .Values.global | default dict -}}
{{- $registry := coalesce $global.imageRegistry .Values.image.registry -}}
{{- $ref := printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) -}}
{{- if $registry -}}{{- $ref = printf "%s/%s" $registry $ref -}}{{- end -}}
{{- if .Values.image.digest -}}{{- $ref = printf "%s@%s" $ref .Values.image.digest -}}{{- end -}}
{{- $ref -}}
{{- end -}}

{{- define "eventbank.imagePullSecrets" -}}
{{- $global := .Values.global | default dict -}}
{{- $secrets := concat ($global.imagePullSecrets | default list) (.Values.imagePullSecrets | default list) | uniq -}}
{{- with $secrets }}
imagePullSecrets:
{{- range . }}
  - name: {{ . }}
{{- end }}
{{- end }}
{{- end -}}

{{/*
Kafka connection and topic layout: a value under global.kafka (set once by
the umbrella chart for all four services) wins over the chart's own kafka.*
when it is set (not empty / not null). Renders YAML; use with fromYaml.
*/}}
{{- define "eventbank.kafka" -}}
{{- $l := .Values.kafka -}}
{{- $global := .Values.global | default dict -}}
{{- $g := $global.kafka | default dict -}}
{{- $gs := $g.sasl | default dict -}}
{{- $gt := $g.topics | default dict -}}
{{- $ls := $l.sasl | default dict -}}
{{- $lt := $l.topics | default dict -}}
bootstrapServers: {{ coalesce $g.bootstrapServers $l.bootstrapServers | required "kafka.bootstrapServers (or global.kafka.bootstrapServers) is required" | quote }}
topicPrefix: {{ coalesce $g.topicPrefix $l.topicPrefix "" | quote }}
securityProtocol: {{ coalesce $g.securityProtocol $l.securityProtocol "plaintext" | quote }}
sasl:
  mechanism: {{ coalesce $gs.mechanism $ls.mechanism "" | quote }}
  username: {{ coalesce $gs.username $ls.username "" | quote }}
  existingSecret: {{ coalesce $gs.existingSecret $ls.existingSecret "" | quote }}
  passwordKey: {{ coalesce $gs.passwordKey $ls.passwordKey "password" | quote }}
{{- $gtls := $g.tls | default dict }}
{{- $ltls := $l.tls | default dict }}
tls:
  caSecret: {{ coalesce $gtls.caSecret $ltls.caSecret "" | quote }}
  caKey: {{ coalesce $gtls.caKey $ltls.caKey "ca.crt" | quote }}
topics:
  create: {{ if and (hasKey $gt "create") (not (kindIs "invalid" $gt.create)) }}{{ $gt.create }}{{ else }}{{ $lt.create }}{{ end }}
  partitions: {{ coalesce $gt.partitions $lt.partitions | int }}
  replicationFactor: {{ coalesce $gt.replicationFactor $lt.replicationFactor | int }}
  {{- /* min ISR belongs with the replication factor: when global sets the
  factor, global's min ISR applies too (absent, null or 0 = broker default;
  use 0 to unset through global: Helm does not delete a global by null). */}}
  {{- $globalRf := not (kindIs "invalid" $gt.replicationFactor) }}
  {{- $isr := ternary $gt.minInsyncReplicas $lt.minInsyncReplicas (or $globalRf (not (kindIs "invalid" $gt.minInsyncReplicas))) }}
  {{- if and (not (kindIs "invalid" $isr)) (gt (int $isr) 0) }}
  {{- if gt (int $isr) (int (coalesce $gt.replicationFactor $lt.replicationFactor)) }}
  {{- fail (printf "kafka.topics.minInsyncReplicas (%d) exceeds replicationFactor (%d)" (int $isr) (int (coalesce $gt.replicationFactor $lt.replicationFactor))) }}
  {{- end }}
  minInsyncReplicas: {{ $isr | int }}
  {{- end }}
{{- end -}}
