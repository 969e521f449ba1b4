{{/* Redis, resolved: global.redis.* wins over redis.* when set. YAML. */}}
{{- define "balance-projector.redis" -}}
{{- $global := .Values.global | default dict -}}
{{- $g := $global.redis | default dict -}}
{{- $secret := coalesce $g.existingSecret .Values.redis.existingSecret "" -}}
url: {{ coalesce $g.url .Values.redis.url "" | quote }}
existingSecret: {{ $secret | quote }}
urlKey: {{ coalesce $g.urlKey .Values.redis.urlKey "url" | quote }}
username: {{ coalesce $g.username .Values.redis.username "" | quote }}
passwordSecret: {{ coalesce $g.passwordSecret .Values.redis.passwordSecret "" | quote }}
passwordKey: {{ coalesce $g.passwordKey .Values.redis.passwordKey "password" | quote }}
{{- end -}}

{{/* Settings this chart adds to eventbank.toml beyond kafka/http/config. */}}
{{- define "balance-projector.serviceSettings" -}}
{{- $r := include "balance-projector.redis" . | fromYaml -}}
redis:
  key_prefix: {{ .Values.redis.keyPrefix | quote }}
  {{- if not $r.existingSecret }}
  url: {{ $r.url | required "redis.url or redis.existingSecret (or global.redis.*) is required" | quote }}
  {{- end }}
  {{- with $r.username }}
  username: {{ . | quote }}
  {{- end }}
{{- end -}}

{{/* Env from Secrets: the Redis URL when it carries a password, the
password alone when it has a Secret of its own. */}}
{{- define "balance-projector.secretEnv" -}}
{{- $r := include "balance-projector.redis" . | fromYaml -}}
{{- if or $r.existingSecret $r.passwordSecret }}
{{- if $r.existingSecret }}
- name: EVENTBANK_REDIS__URL
  valueFrom:
    secretKeyRef:
      name: {{ $r.existingSecret }}
      key: {{ $r.urlKey }}
{{- end }}
{{- if $r.passwordSecret }}
- name: EVENTBANK_REDIS__PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ $r.passwordSecret }}
      key: {{ $r.passwordKey }}
{{- end }}
{{- else }}
[]
{{- end }}
{{- end -}}
