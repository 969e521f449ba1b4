{{/*
Workloads. Every helper here takes a dict:
  root       the chart's top-level context ($)
  component  api | processor | saga | projector | audit
  suffix     true when the chart runs several workloads (names get "-<component>")
  values     the component's values (replicaCount, resources, pdb, autoscaling, ...)
  env        extra container env (list), e.g. the api/processor switches
*/}}

{{- define "eventbank.podTemplate" -}}
{{- $root := .root -}}
{{- $v := .values -}}
{{- $k := include "eventbank.kafka" $root | fromYaml -}}
{{- $auth := include "eventbank.auth" $root | fromYaml -}}
{{- $caMounts := include "eventbank.caMounts" $root | fromYamlArray -}}
metadata:
  labels:
    {{- include "eventbank.labels" . | nindent 4 }}
    {{- with $v.podLabels }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
  annotations:
    # Pods roll when the rendered configuration changes.
    checksum/config: {{ include "eventbank.settings" $root | sha256sum }}
    {{- with $root.Values.podAnnotations }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
    {{- with $v.podAnnotations }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
spec:
  serviceAccountName: {{ include "eventbank.serviceAccountName" $root }}
  automountServiceAccountToken: false
  {{- with (include "eventbank.imagePullSecrets" $root | trim) }}
  {{- . | nindent 2 }}
  {{- end }}
  {{- with $root.Values.priorityClassName }}
  priorityClassName: {{ . }}
  {{- end }}
  # Long enough to finish or abort the open Kafka transaction on SIGTERM.
  terminationGracePeriodSeconds: {{ $v.terminationGracePeriodSeconds | default $root.Values.terminationGracePeriodSeconds }}
  securityContext:
    {{- toYaml $root.Values.podSecurityContext | nindent 4 }}
  containers:
    - name: {{ $root.Chart.Name }}
      image: {{ include "eventbank.image" $root | quote }}
      imagePullPolicy: {{ $root.Values.image.pullPolicy }}
      securityContext:
        {{- toYaml $root.Values.securityContext | nindent 8 }}
      ports:
        - name: http
          containerPort: {{ $root.Values.containerPort }}
          protocol: TCP
      env:
        - name: EVENTBANK_CONFIG_FILE
          value: /etc/eventbank/eventbank.toml
        # The pod name: stable for a StatefulSet pod across restarts, so the
        # transactional id and static group membership derived from it are too.
        - name: EVENTBANK_INSTANCE
          valueFrom:
            fieldRef:
              fieldPath: metadata.name
        {{- if $k.sasl.existingSecret }}
        - name: EVENTBANK_KAFKA__SASL_PASSWORD
          valueFrom:
            secretKeyRef:
              name: {{ $k.sasl.existingSecret }}
              key: {{ $k.sasl.passwordKey }}
        {{- end }}
        {{- if $auth.metricsToken }}
        - name: EVENTBANK_AUTH__METRICS_TOKEN
          valueFrom:
            secretKeyRef:
              name: {{ $auth.metricsToken }}
              key: {{ $auth.metricsTokenKey }}
        {{- end }}
        {{- $secretEnv := include (printf "%s.secretEnv" $root.Chart.Name) $root | fromYamlArray }}
        {{- with $secretEnv }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
        {{- with .env }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
        {{- with $root.Values.extraEnv }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
      {{- with $root.Values.extraEnvFrom }}
      envFrom:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $root.Values.probes }}
      startupProbe:
        httpGet:
          path: /healthz
          port: http
        {{- toYaml .startup | nindent 8 }}
      livenessProbe:
        httpGet:
          path: /healthz
          port: http
        {{- toYaml .liveness | nindent 8 }}
      readinessProbe:
        httpGet:
          path: /readyz
          port: http
        {{- toYaml .readiness | nindent 8 }}
      {{- end }}
      resources:
        {{- toYaml $v.resources | nindent 8 }}
      volumeMounts:
        - name: config
          mountPath: /etc/eventbank
          readOnly: true
        - name: tmp
          mountPath: /tmp
        {{- if $auth.enabled }}
        # The API tokens, read at start: rotate them by updating the Secret
        # and restarting the pods (kubectl rollout restart).
        - name: auth
          mountPath: {{ include "eventbank.auth.dir" $root }}
          readOnly: true
        {{- end }}
        {{- range $caMounts }}
        - name: {{ .name }}
          mountPath: {{ .dir }}
          readOnly: true
        {{- end }}
  volumes:
    - name: config
      configMap:
        name: {{ include "eventbank.fullname" $root }}
    {{- if $auth.enabled }}
    - name: auth
      secret:
        secretName: {{ $auth.secretName }}
        items:
          - key: {{ $auth.tokensKey }}
            path: {{ $auth.tokensKey }}
    {{- end }}
    {{- range $caMounts }}
    - name: {{ .name }}
      secret:
        secretName: {{ .secret }}
        items:
          - key: {{ .key }}
            path: ca.crt
    {{- end }}
    - name: tmp
      emptyDir:
        sizeLimit: 64Mi
  {{- with $v.nodeSelector }}
  nodeSelector:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with $v.affinity }}
  affinity:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with $v.tolerations }}
  tolerations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with $v.topologySpreadConstraints }}
  topologySpreadConstraints:
    {{- $selector := include "eventbank.selectorLabels" $ | fromYaml }}
    {{- range . }}
    - {{ toYaml (mergeOverwrite (dict "labelSelector" (dict "matchLabels" $selector)) .) | nindent 6 | trim }}
    {{- end }}
  {{- end }}
{{- end -}}

{{/* A StatefulSet: for the transactional writers, whose transactional.id must
survive a restart (pod names <name>-0, -1, ... are stable). */}}
{{- define "eventbank.statefulset" -}}
{{- $root := .root -}}
{{- $v := .values -}}
{{- $name := include "eventbank.workloadName" . -}}
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: {{ $name }}
  namespace: {{ $root.Release.Namespace }}
  labels:
    {{- include "eventbank.labels" . | nindent 4 }}
spec:
  serviceName: {{ $name }}-headless
  {{- if not $v.autoscaling.enabled }}
  replicas: {{ $v.replicaCount }}
  {{- end }}
  # No ordering is needed between instances: start and stop them together.
  podManagementPolicy: Parallel
  updateStrategy:
    type: RollingUpdate
  revisionHistoryLimit: 5
  selector:
    matchLabels:
      {{- include "eventbank.selectorLabels" . | nindent 6 }}
  template:
    {{- include "eventbank.podTemplate" . | nindent 4 }}
{{- end -}}

{{- define "eventbank.deployment" -}}
{{- $root := .root -}}
{{- $v := .values -}}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "eventbank.workloadName" . }}
  namespace: {{ $root.Release.Namespace }}
  labels:
    {{- include "eventbank.labels" . | nindent 4 }}
spec:
  {{- if not $v.autoscaling.enabled }}
  replicas: {{ $v.replicaCount }}
  {{- end }}
  revisionHistoryLimit: 5
  strategy:
    type: RollingUpdate
    rollingUpdate:
      maxUnavailable: 0
      maxSurge: 1
  selector:
    matchLabels:
      {{- include "eventbank.selectorLabels" . | nindent 6 }}
  template:
    {{- include "eventbank.podTemplate" . | nindent 4 }}
{{- end -}}

{{/* The ClusterIP Service for the HTTP API and /metrics. */}}
{{- define "eventbank.service" -}}
{{- $root := .root -}}
apiVersion: v1
kind: Service
metadata:
  name: {{ .name | default (include "eventbank.workloadName" .) }}
  namespace: {{ $root.Release.Namespace }}
  labels:
    {{- include "eventbank.labels" . | nindent 4 }}
  {{- with $root.Values.service.annotations }}
  annotations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
spec:
  type: {{ $root.Values.service.type }}
  ports:
    - name: http
      port: {{ $root.Values.service.port }}
      targetPort: http
      protocol: TCP
  selector:
    {{- include "eventbank.selectorLabels" . | nindent 4 }}
{{- end -}}

{{/* The governing headless Service of a StatefulSet (stable pod DNS). */}}
{{- define "eventbank.headlessService" -}}
{{- $root := .root -}}
apiVersion: v1
kind: Service
metadata:
  name: {{ include "eventbank.workloadName" . }}-headless
  namespace: {{ $root.Release.Namespace }}
  labels:
    {{- include "eventbank.labels" . | nindent 4 }}
spec:
  clusterIP: None
  publishNotReadyAddresses: true
  ports:
    - name: http
      port: {{ $root.Values.containerPort }}
      targetPort: http
      protocol: TCP
  selector:
    {{- include "eventbank.selectorLabels" . | nindent 4 }}
{{- end -}}

{{- define "eventbank.pdb" -}}
{{- $root := .root -}}
{{- $v := .values -}}
{{- if $v.pdb.enabled }}
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: {{ include "eventbank.workloadName" . }}
  namespace: {{ $root.Release.Namespace }}
  labels:
    {{- include "eventbank.labels" . | nindent 4 }}
spec:
  {{- if not (kindIs "invalid" $v.pdb.minAvailable) }}
  minAvailable: {{ $v.pdb.minAvailable }}
  {{- else }}
  maxUnavailable: {{ $v.pdb.maxUnavailable }}
  {{- end }}
  selector:
    matchLabels:
      {{- include "eventbank.selectorLabels" . | nindent 6 }}
{{- end }}
{{- end -}}

{{/* HPA. For a Kafka consumer (consumer: true) more replicas than partitions
would sit idle, so maxReplicas is checked against the partition count. */}}
{{- define "eventbank.hpa" -}}
{{- $root := .root -}}
{{- $v := .values -}}
{{- $a := $v.autoscaling -}}
{{- if $a.enabled }}
{{- if .consumer }}
{{- $k := include "eventbank.kafka" $root | fromYaml }}
{{- if gt (int $a.maxReplicas) (int $k.topics.partitions) }}
{{- fail (printf "%s: autoscaling.maxReplicas (%d) exceeds the topic partition count (%d); extra consumers would sit idle" (include "eventbank.workloadName" .) (int $a.maxReplicas) (int $k.topics.partitions)) }}
{{- end }}
{{- end }}
{{- if gt (int $a.minReplicas) (int $a.maxReplicas) }}
{{- fail "autoscaling.minReplicas exceeds autoscaling.maxReplicas" }}
{{- end }}
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: {{ include "eventbank.workloadName" . }}
  namespace: {{ $root.Release.Namespace }}
  labels:
    {{- include "eventbank.labels" . | nindent 4 }}
spec:
  scaleTargetRef:
    apiVersion: apps/v1
    kind: {{ .kind }}
    name: {{ include "eventbank.workloadName" . }}
  minReplicas: {{ $a.minReplicas }}
  maxReplicas: {{ $a.maxReplicas }}
  metrics:
    {{- with $a.targetCPUUtilizationPercentage }}
    - type: Resource
      resource:
        name: cpu
        target:
          type: Utilization
          averageUtilization: {{ . }}
    {{- end }}
    {{- with $a.targetMemoryUtilizationPercentage }}
    - type: Resource
      resource:
        name: memory
        target:
          type: Utilization
          averageUtilization: {{ . }}
    {{- end }}
  {{- with $a.behavior }}
  behavior:
    {{- toYaml . | nindent 4 }}
  {{- end }}
{{- end }}
{{- end -}}

{{/* ServiceMonitor (Prometheus Operator CRD) scraping /metrics. */}}
{{- define "eventbank.serviceMonitor" -}}
{{- $root := .root -}}
{{- $m := $root.Values.serviceMonitor -}}
{{- $auth := include "eventbank.auth" $root | fromYaml -}}
{{- if $m.enabled }}
apiVersion: monitoring.coreos.com/v1
kind: ServiceMonitor
metadata:
  name: {{ include "eventbank.workloadName" . }}
  namespace: {{ $m.namespace | default $root.Release.Namespace }}
  labels:
    {{- include "eventbank.labels" . | nindent 4 }}
    {{- with $m.labels }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
spec:
  namespaceSelector:
    matchNames:
      - {{ $root.Release.Namespace }}
  selector:
    matchLabels:
      {{- include "eventbank.selectorLabels" . | nindent 6 }}
  endpoints:
    - port: http
      path: /metrics
      interval: {{ $m.interval }}
      scrapeTimeout: {{ $m.scrapeTimeout }}
      {{- if $auth.metricsToken }}
      authorization:
        type: Bearer
        credentials:
          name: {{ $auth.metricsToken }}
          key: {{ $auth.metricsTokenKey }}
      {{- end }}
{{- end }}
{{- end -}}

{{- define "eventbank.serviceAccount" -}}
{{- if .Values.serviceAccount.create }}
apiVersion: v1
kind: ServiceAccount
metadata:
  name: {{ include "eventbank.serviceAccountName" . }}
  namespace: {{ .Release.Namespace }}
  labels:
    {{- include "eventbank.labels" (dict "root" . "component" "serviceaccount") | nindent 4 }}
  {{- with .Values.serviceAccount.annotations }}
  annotations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
automountServiceAccountToken: false
{{- end }}
{{- end -}}
