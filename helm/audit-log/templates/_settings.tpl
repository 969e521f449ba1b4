{{/* PostgreSQL, resolved: global.postgres.* wins over postgres.* when set. YAML. */}}
{{- define "audit-log.postgres" -}}
{{- $global := .Values.global | default dict -}}
{{- $g := $global.postgres | default dict -}}
url: {{ coalesce $g.url .Values.postgres.url "" | quote }}
existingSecret: {{ coalesce $g.existingSecret .Values.postgres.existingSecret "" | quote }}
urlKey: {{ coalesce $g.urlKey .Values.postgres.urlKey "url" | quote }}
passwordSecret: {{ coalesce $g.passwordSecret .Values.postgres.passwordSecret "" | quote }}
passwordKey: {{ coalesce $g.passwordKey .Values.postgres.passwordKey "password" | quote }}
sslmode: {{ coalesce $g.sslmode .Values.postgres.sslmode "disable" | quote }}
{{- end -}}

{{/* Settings this chart adds to eventbank.toml beyond kafka/http/config. */}}
{{- define "audit-log.serviceSettings" -}}
{{- $p := include "audit-log.postgres" . | fromYaml -}}
postgres:
  schema: {{ .Values.postgres.schema | quote }}
  sslmode: {{ $p.sslmode | quote }}
  {{- if not $p.existingSecret }}
  url: {{ $p.url | required "postgres.existingSecret or postgres.url (or global.postgres.*) is required" | quote }}
  {{- end }}
{{- end -}}

{{/* Env from Secrets: the PostgreSQL URL with its password, or the
password alone when it has a Secret of its own. */}}
{{- define "audit-log.secretEnv" -}}
{{- $p := include "audit-log.postgres" . | fromYaml -}}
{{- if or $p.existingSecret $p.passwordSecret }}
{{- if $p.existingSecret }}
- name: EVENTBANK_POSTGRES__URL
  valueFrom:
    secretKeyRef:
      name: {{ $p.existingSecret }}
      key: {{ $p.urlKey }}
{{- end }}
{{- if $p.passwordSecret }}
- name: EVENTBANK_POSTGRES__PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ $p.passwordSecret }}
      key: {{ $p.passwordKey }}
{{- end }}
{{- else }}
[]
{{- end }}
{{- end -}}
