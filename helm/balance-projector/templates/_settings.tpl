{{/* Redis, resolved: global.redis.* wins over redis.* when set. YAML. */}}
{{- define "balance-projector.redis" -}}
{{- $global := .Values.global | default dict -}}
{{- $g := $global.redis | default dict -}}
{{- $secret := coalesce $g.existingSecret .Values.redis.existingSecret "" -}}
url: {{ coalesce $g.url .Values.redis.url "" | quote }}
existingSecret: {{ $secret | quote }}
urlKey: {{ coalesce $g.urlKey .Values.redis.urlKey "url" | quote }}
{{- end -}}

{{/* Settings this chart adds to eventbank.toml beyond kafka/http/config. */}}
{{- define "balance-projector.serviceSettings" -}}
{{- $r := include "balance-projector.redis" . | fromYaml -}}
redis:
  key_prefix: {{ .Values.redis.keyPrefix | quote }}
  {{- if not $r.existingSecret }}
  url: {{ $r.url | required "redis.url or redis.existingSecret (or global.redis.*) is required" | quote }}
  {{- end }}
{{- end -}}

{{/* Env from Secrets: the Redis URL when it carries a password. */}}
{{- define "balance-projector.secretEnv" -}}
{{- $r := include "balance-projector.redis" . | fromYaml -}}
{{- if $r.existingSecret }}
- name: EVENTBANK_REDIS__URL
  valueFrom:
    secretKeyRef:
      name: {{ $r.existingSecret }}
      key: {{ $r.urlKey }}
{{- else }}
[]
{{- end }}
{{- end -}}
