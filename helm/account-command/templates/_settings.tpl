{{/* Settings this chart adds to eventbank.toml beyond kafka/http/config. */}}
{{- define "account-command.serviceSettings" -}}
{}
{{- end -}}

{{/* Env from Secrets. */}}
{{- define "account-command.secretEnv" -}}
[]
{{- end -}}
