{{/*
The service's eventbank.toml (read through EVENTBANK_CONFIG_FILE).

Built from: the chart's `config` (service tuning, in the service's own
snake_case setting names; values.schema.json lists exactly the keys the
service accepts, which refuses unknown keys), the resolved Kafka connection
and topic layout, the HTTP bind address from `containerPort`, where the API
tokens file is mounted (auth), where CA certificates are mounted (TLS), and
what the service chart adds in its "<chart>.serviceSettings" template (Redis,
PostgreSQL). Secrets are never written here: they reach the pod as
environment variables from Secrets (EVENTBANK_* overrides the file).
*/}}
{{- define "eventbank.settings" -}}
{{- $s := deepCopy (.Values.config | default dict) -}}
{{- $k := include "eventbank.kafka" . | fromYaml -}}
{{- $kafka := deepCopy ($s.kafka | default dict) -}}
{{- $_ := set $kafka "bootstrap_servers" $k.bootstrapServers -}}
{{- $_ := set $kafka "topic_prefix" $k.topicPrefix -}}
{{- $_ := set $kafka "security_protocol" $k.securityProtocol -}}
{{- with $k.sasl.mechanism }}{{ $_ := set $kafka "sasl_mechanism" . }}{{ end -}}
{{- with $k.sasl.username }}{{ $_ := set $kafka "sasl_username" . }}{{ end -}}
{{- $topics := dict "create" $k.topics.create "partitions" $k.topics.partitions "replication_factor" $k.topics.replicationFactor -}}
{{- if hasKey $k.topics "minInsyncReplicas" }}{{ $_ := set $topics "min_insync_replicas" $k.topics.minInsyncReplicas }}{{ end -}}
{{- $_ := set $kafka "topics" $topics -}}
{{- $_ := set $s "kafka" $kafka -}}
{{- $_ := set $s "http" (dict "bind" (printf "0.0.0.0:%d" (int .Values.containerPort))) -}}
{{- $a := include "eventbank.auth" . | fromYaml -}}
{{- if $a.enabled -}}
{{- $_ := set $s "auth" (dict "enabled" true "tokens_file" (printf "%s/%s" (include "eventbank.auth.dir" .) $a.tokensKey)) -}}
{{- else -}}
{{- $_ := set $s "auth" (dict "enabled" false) -}}
{{- end -}}
{{- $extraName := printf "%s.serviceSettings" .Chart.Name -}}
{{- $extra := include $extraName . | fromYaml | default dict -}}
{{- $s = mustMergeOverwrite $s $extra -}}
{{- $s = mustMergeOverwrite $s (include "eventbank.caSettings" . | fromYaml | default dict) -}}
{{- include "eventbank.toml.table" (dict "path" list "map" $s) -}}
{{- end -}}

{{/* A TOML table and its sub-tables, keys sorted; null values are left out. */}}
{{- define "eventbank.toml.table" -}}
{{- $map := .map -}}
{{- $path := .path -}}
{{- $tables := list -}}
{{- $scalars := list -}}
{{- range $key := keys $map | sortAlpha -}}
{{- $value := index $map $key -}}
{{- if kindIs "map" $value -}}
{{- $tables = append $tables $key -}}
{{- else if not (kindIs "invalid" $value) -}}
{{- $scalars = append $scalars $key -}}
{{- end -}}
{{- end -}}
{{- if and $path (or $scalars (not $tables)) }}
[{{ include "eventbank.toml.path" $path }}]
{{- end -}}
{{- range $key := $scalars }}
{{ include "eventbank.toml.key" $key }} = {{ include "eventbank.toml.value" (index $map $key) }}
{{- end -}}
{{- range $key := $tables }}
{{ include "eventbank.toml.table" (dict "path" (append $path $key) "map" (index $map $key)) }}
{{- end -}}
{{- end -}}

{{- define "eventbank.toml.path" -}}
{{- $parts := list -}}
{{- range . }}{{ $parts = append $parts (include "eventbank.toml.key" .) }}{{ end -}}
{{- join "." $parts -}}
{{- end -}}

{{- define "eventbank.toml.key" -}}
{{- if regexMatch "^[A-Za-z0-9_-]+$" . }}{{ . }}{{ else }}{{ toJson . }}{{ end -}}
{{- end -}}

{{/* Numbers from YAML arrive as float64: integral ones are written as TOML
integers (the services' settings are integers). */}}
{{- define "eventbank.toml.value" -}}
{{- if kindIs "bool" . -}}
{{- . -}}
{{- else if kindIs "string" . -}}
{{- toJson . -}}
{{- else if or (kindIs "float64" .) (kindIs "float32" .) -}}
{{- if eq (floor .) (float64 .) }}{{ int64 . }}{{ else }}{{ . }}{{ end -}}
{{- else if kindIs "slice" . -}}
[{{ range $i, $e := . }}{{ if $i }}, {{ end }}{{ include "eventbank.toml.value" $e }}{{ end }}]
{{- else -}}
{{- . -}}
{{- end -}}
{{- end -}}

{{- define "eventbank.configmap" -}}
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ include "eventbank.fullname" . }}
  namespace: {{ .Release.Namespace }}
  labels:
    {{- include "eventbank.labels" (dict "root" . "component" "config") | nindent 4 }}
data:
  eventbank.toml: |
    # Rendered by Helm from the chart's values; EVENTBANK_* variables override it.
    {{- include "eventbank.settings" . | trim | nindent 4 }}
{{- end -}}
