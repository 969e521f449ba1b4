{{/*
Bearer tokens of the service's HTTP API (README "Authentication").

Resolved from global.auth (the umbrella's) when it names a Secret or lists
tokens, else from the chart's own auth.*; global.auth.enabled wins when set.
The tokens reach the pod only through a Secret mounted as a file at
/etc/eventbank-auth (auth.tokens_file in eventbank.toml names it), never
through the ConfigMap or a plain env value. Renders YAML; use with fromYaml.
*/}}
{{- define "eventbank.auth" -}}
{{- $l := .Values.auth | default dict -}}
{{- $global := .Values.global | default dict -}}
{{- $g := $global.auth | default dict -}}
{{- $src := ternary $g $l (or (not (empty $g.existingSecret)) (not (empty $g.tokens))) -}}
{{- $enabled := $l.enabled -}}
{{- if and (hasKey $g "enabled") (not (kindIs "invalid" $g.enabled)) }}{{ $enabled = $g.enabled }}{{ end -}}
enabled: {{ $enabled | default false }}
existingSecret: {{ $src.existingSecret | default "" | quote }}
tokensKey: {{ coalesce $src.tokensKey $l.tokensKey "tokens.json" | quote }}
tokens: {{ $src.tokens | default list | toJson }}
metricsToken: {{ coalesce ($g.metricsToken | default dict).existingSecret ($l.metricsToken | default dict).existingSecret "" | quote }}
metricsTokenKey: {{ coalesce ($g.metricsToken | default dict).key ($l.metricsToken | default dict).key "metrics-token" | quote }}
{{- if $enabled }}
{{- if $src.existingSecret }}
secretName: {{ $src.existingSecret | quote }}
{{- else if $src.tokens }}
secretName: {{ printf "%s-auth" (include "eventbank.fullname" .) | quote }}
create: true
{{- else }}
{{- fail "auth is on: set auth.existingSecret (a Secret with the API tokens) or auth.tokens (or global.auth.*), or auth.enabled=false" }}
{{- end }}
{{- end }}
{{- end -}}

{{/* Where the tokens file is mounted. */}}
{{- define "eventbank.auth.dir" -}}/etc/eventbank-auth{{- end -}}

{{/* The Secret with the tokens listed in values (none with existingSecret). */}}
{{- define "eventbank.authSecret" -}}
{{- $a := include "eventbank.auth" . | fromYaml -}}
{{- if $a.create }}
apiVersion: v1
kind: Secret
metadata:
  name: {{ $a.secretName }}
  namespace: {{ .Release.Namespace }}
  labels:
    {{- include "eventbank.labels" (dict "root" . "component" "auth") | nindent 4 }}
type: Opaque
stringData:
  {{ $a.tokensKey }}: {{ dict "tokens" $a.tokens | toJson | quote }}
{{- end }}
{{- end -}}

{{/* NOTES.txt lines: where the API tokens come from, how to call the API. */}}
{{- define "eventbank.auth.notes" -}}
{{- $a := include "eventbank.auth" . | fromYaml -}}
{{- if not $a.enabled }}
API auth:    OFF (auth.enabled=false): anyone who reaches the API may call it.
{{- else }}
API auth:    bearer tokens from Secret {{ $a.secretName }} (key {{ $a.tokensKey }}); /healthz, /readyz, /metrics stay open.
{{- if $a.existingSecret }}
The pods start once that Secret exists, e.g.:
  kubectl -n {{ .Release.Namespace }} create secret generic {{ $a.secretName }} --from-file={{ $a.tokensKey }}
  with {{ $a.tokensKey }} like {"tokens":[{"name":"ops","token":"<32+ random characters>","scopes":["write","read","audit","admin"]}]}
{{- end }}
Call the API with: curl -H "Authorization: Bearer $EVENTBANK_TOKEN" ...
{{- end }}
{{- end -}}
