{{/*
CA certificates mounted from Secrets, for the encrypted links (README
"Encrypted transports"): Kafka's (kafka.tls, every chart), and Redis's or
PostgreSQL's (redis.tls, postgres.tls) in the charts that have them; global.*
wins when it names a Secret. A YAML list of {name, secret, key, dir, section,
setting}: each Secret key is mounted as <dir>/ca.crt, and <section>.<setting>
in eventbank.toml names that file. Certificates are not secret, but they come
with the cluster's other TLS material, which lives in Secrets.
*/}}
{{- define "eventbank.caMounts" -}}
{{- $mounts := list -}}
{{- $global := .Values.global | default dict -}}
{{- $k := include "eventbank.kafka" . | fromYaml -}}
{{- if $k.tls.caSecret -}}
{{- $mounts = append $mounts (dict "name" "kafka-ca" "secret" $k.tls.caSecret "key" $k.tls.caKey "dir" "/etc/eventbank/tls/kafka" "section" "kafka" "setting" "ssl_ca_file") -}}
{{- end -}}
{{- range $link := list "redis" "postgres" -}}
{{- if hasKey $.Values $link -}}
{{- $local := (index $.Values $link).tls | default dict -}}
{{- $g := (index $global $link | default dict).tls | default dict -}}
{{- $secret := coalesce $g.caSecret $local.caSecret "" -}}
{{- if $secret -}}
{{- $mounts = append $mounts (dict "name" (printf "%s-ca" $link) "secret" $secret "key" (coalesce $g.caKey $local.caKey "ca.crt") "dir" (printf "/etc/eventbank/tls/%s" $link) "section" $link "setting" "ca_file") -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- toYaml $mounts -}}
{{- end -}}

{{/* The settings naming the mounted CA files: {section: {setting: path}}. */}}
{{- define "eventbank.caSettings" -}}
{{- $settings := dict -}}
{{- range (include "eventbank.caMounts" . | fromYamlArray) -}}
{{- $_ := set $settings .section (dict .setting (printf "%s/ca.crt" .dir)) -}}
{{- end -}}
{{- toYaml $settings -}}
{{- end -}}
