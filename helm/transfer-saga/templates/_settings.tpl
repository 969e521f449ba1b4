{{/* Settings this chart adds to eventbank.toml beyond kafka/http/config. */}}
{{- define "transfer-saga.serviceSettings" -}}
{}
{{- end -}}

{{/* Env from Secrets. */}}
{{- define "transfer-saga.secretEnv" -}}
[]
{{- end -}}
